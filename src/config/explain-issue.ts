import type { z } from 'zod';
import { formatPath } from './interpolate.js';

/** A config that is mostly unknown keys (the wrong file?) is named by its first few. */
const MAX_UNKNOWN_KEYS_LISTED = 20;

/**
 * One validation problem as a person reads it, a line per problem: where (the
 * key path), what was wrong, and for an unknown key the nearest known one.
 */
export function explainIssue(issue: z.core.$ZodIssue, knownKeysAt: (path: readonly PropertyKey[]) => readonly string[]): string[] {
  const where = formatPath(issue.path);
  if (issue.code !== 'unrecognized_keys') return [explainOne(issue, where)];
  const known = knownKeysAt(issue.path);
  const lines = issue.keys.slice(0, MAX_UNKNOWN_KEYS_LISTED).map((key) => {
    const suggestion = nearest(key, known);
    const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
    return `unknown key "${key}" at ${where}${hint}`;
  });
  const more = issue.keys.length - lines.length;
  if (more > 0) lines.push(`and ${more} more unknown key${more === 1 ? '' : 's'} at ${where}`);
  return lines;
}

function explainOne(issue: Exclude<z.core.$ZodIssue, z.core.$ZodIssueUnrecognizedKeys>, where: string): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `${where} is required` : `${where}: expected ${issue.expected}, got ${describe(issue.input)}`;
    case 'invalid_value':
      if (issue.input === undefined) return `${where} is required: ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(issue.input)}`;
    case 'invalid_union':
      if ('discriminator' in issue && typeof issue.discriminator === 'string') {
        return explainDiscriminator(issue as typeof issue & DiscriminatorDetails, where);
      }
      return `${where}: ${issue.message}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** What zod adds to an `invalid_union` issue of a discriminated union (`type:` of a source, `method:` of Vault auth). */
interface DiscriminatorDetails {
  readonly discriminator: string;
  readonly options?: readonly unknown[];
  readonly input?: unknown;
}

/** `sources.a.type: unknown type "dontenv"; one of "dotenv", "directory", …` — the path once, the values that exist. */
function explainDiscriminator(issue: DiscriminatorDetails & { readonly path: readonly PropertyKey[] }, where: string): string {
  // zod's path already ends at the discriminator; older paths stopped at the union.
  const at = issue.path.at(-1) === issue.discriminator ? where : `${where}.${issue.discriminator}`;
  const values = (issue.options ?? []).map((value) => JSON.stringify(value)).join(', ');
  const choices = values === '' ? '' : `; expected one of ${values}`;
  const value = issue.input !== null && typeof issue.input === 'object' ? (issue.input as Record<string, unknown>)[issue.discriminator] : undefined;
  if (value === undefined) return `${at} is required${choices}`;
  const suggestion = typeof value === 'string' ? nearest(value, (issue.options ?? []).map(String)) : undefined;
  return `${at}: unknown ${issue.discriminator} ${describe(value)}${choices}${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`;
}

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  if (typeof input === 'string') return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
  return `${typeof input} ${String(input)}`;
}

function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
