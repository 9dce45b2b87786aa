import { SecretDataError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';

/** The fields of one Parameter Store parameter the source uses. */
export interface RawParameter {
  readonly name: string;
  readonly value: string;
  readonly version: number;
  readonly lastModified: Date | undefined;
}

/** The last segment of a parameter name: `/noxus/prod/db-password` → `db-password`. */
export function parameterKey(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/**
 * Which version of which parameter was received, in one string: equal
 * signatures mean no parameter changed, was added or was removed.
 */
export function versionSignature(parameters: readonly RawParameter[]): string {
  return parameters
    .map((parameter) => `${parameter.name}@${parameter.version}`)
    .sort()
    .join('\n');
}

/**
 * Turns parameters into source keys named by their last path segment
 * (String, StringList and decrypted SecureString values as they are). Two
 * parameters with the same last segment — possible in a recursive hierarchy
 * — are a SecretDataError naming both; messages never include a value.
 */
export function mapParameters(parameters: readonly RawParameter[], source: string): Map<string, SecretValue> {
  const entries = new Map<string, SecretValue>();
  const from = new Map<string, string>();
  for (const parameter of [...parameters].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const key = parameterKey(parameter.name);
    const earlier = from.get(key);
    if (earlier !== undefined) {
      throw new SecretDataError(`aws-ssm source "${source}": parameters "${earlier}" and "${parameter.name}" both give the key "${key}"`, {
        hint: 'rename one of them, or read their levels with separate sources (recursive: false, or names:) and a prefix',
      });
    }
    from.set(key, parameter.name);
    entries.set(key, new SecretValue(parameter.value));
  }
  return entries;
}

/** The latest LastModifiedDate among the parameters, for `audit`. */
export function lastModified(parameters: readonly RawParameter[]): Date | undefined {
  let latest: Date | undefined;
  for (const { lastModified: date } of parameters) {
    if (date !== undefined && (latest === undefined || date > latest)) latest = date;
  }
  return latest;
}

/** `names` in calls of at most `size` (GetParameters takes 10). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
