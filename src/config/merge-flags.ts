import type { ConfigFlags } from './config-flags.js';

/**
 * The file's config data with the command-line flags merged over it, key by
 * key: a flag wins over the file's value of its key, and leaves the other
 * keys of its section as the file has them. A section the file gives as
 * something other than a map is kept as written, so that validation reports
 * the file's mistake rather than hiding it under the flag.
 */
export function mergeFlags(file: Readonly<Record<string, unknown>>, flags: ConfigFlags): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...file };
  if (flags.onChange !== undefined && (file.onChange === undefined || isMap(file.onChange))) {
    merged.onChange = { ...(file.onChange as Record<string, unknown> | undefined), ...flags.onChange };
  }
  if (flags.onExit !== undefined) merged.onExit = flags.onExit;
  return merged;
}

function isMap(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
