import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { describeBadChoice } from '../lib/choice.js';
import { flagAt, type ConfigFlags } from './config-flags.js';
import { explainIssue } from './explain-issue.js';
import { formatPath } from './interpolate.js';
import type { RawConfig } from './schema.js';
import validateConfigShape from './generated/config-validator.js';

/**
 * Validates config data as the schema (src/config/schema.ts) does, with the
 * same result. The validator generated from the schema at build time
 * (scripts/config-validator.mjs) passes only data that zod returns unchanged,
 * so zod — ~17 ms to load with the schema, on every start — runs only for
 * data that validator rejects: zod then decides, and its issues word the errors.
 */
export async function validateRawConfig(data: unknown): Promise<z.ZodSafeParseResult<RawConfig>> {
  if (validateConfigShape(data)) return { success: true, data: data as RawConfig };
  const { configSchema } = await import('./schema.js');
  return configSchema.safeParse(data, { reportInput: true });
}

/** Where config data came from, for the messages about it. */
export interface ConfigOrigin {
  /** The config file (its path heads the message about its keys); undefined in zero-config mode. */
  readonly file: string | undefined;
  /** The flags merged over the file: a key they set is reported by its flag. */
  readonly flags: ConfigFlags;
}

/**
 * Validates the merged config once. A problem in the file's keys is reported
 * as the file's, every one on its line; only when the file is sound, a flag's
 * value that does not fit is reported, naming the flag and the key.
 */
export async function validateConfig(data: unknown, origin: ConfigOrigin): Promise<RawConfig> {
  const result = await validateRawConfig(data);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ issue, flag: flagAt(issue.path, origin.flags) }));
  const fromFile = issues.filter(({ flag }) => flag === undefined).map(({ issue }) => issue);
  if (fromFile.length > 0) throw await invalidFileError(fromFile, data, origin.file ?? '(zero-config: ./.env)');
  const problems = issues.flatMap(({ issue, flag }) => (flag === undefined ? [] : [explainFlagIssue(issue, flag)]));
  throw new ConfigError(`invalid command-line option: ${problems.join('; ')}`);
}

/** The ConfigError for problems in a config file's keys, with "did you mean" for unknown ones. */
export async function invalidFileError(issues: readonly z.core.$ZodIssue[], data: unknown, path: string): Promise<ConfigError> {
  const { knownKeysAt } = await import('./known-keys.js');
  const problems = issues.flatMap((issue) => explainIssue(issue, (at) => knownKeysAt(data, at)));
  return new ConfigError(`${path}: invalid config:\n  ${problems.join('\n  ')}`, { hint: 'see `secretvisor schema` for every key and type' });
}

function explainFlagIssue(issue: z.core.$ZodIssue, flag: string): string {
  // Quoted when it would not read as one word: `--splay ""`.
  const value = typeof issue.input === 'string' && /^[^\s"]+$/.test(issue.input) ? issue.input : JSON.stringify(issue.input);
  const given = `${flag} ${value}`;
  const key = formatPath(issue.path);
  if (issue.code === 'invalid_value') return `${describeBadChoice(given, issue.values.map(String))} (${key})`;
  return `${given} (${key}): ${issue.message}`;
}
