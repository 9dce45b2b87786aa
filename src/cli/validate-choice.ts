import { UsageError } from '../errors.js';
import { describeBadChoice, isChoice } from '../lib/choice.js';

/**
 * The value when it is one of `choices`; else a UsageError (exit 64) in the
 * one wording every such flag uses, `given` naming where it came from:
 * `env: --format yaml is not one of dotenv, json, shell`.
 */
export function validateChoice<T extends string>(value: string, choices: readonly T[], given: string): T {
  if (!isChoice(value, choices)) throw new UsageError(describeBadChoice(given, choices));
  return value;
}
