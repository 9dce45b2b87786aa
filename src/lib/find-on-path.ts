import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The search path when secretvisor's own environment has no PATH. */
export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin:/sbin:/usr/sbin';

/** What a walk of PATH found for a program name. */
export interface PathLookup {
  /** The first executable file of that name. */
  readonly found: string | undefined;
  /** The first file of that name that is not executable, for the error when none is. */
  readonly unusable: string | undefined;
}

/**
 * Walks `path` (PATH's syntax; `DEFAULT_PATH` when undefined) the way a shell
 * does, an empty entry meaning the current folder.
 */
export function findOnPath(name: string, path: string | undefined): PathLookup {
  let unusable: string | undefined;
  for (const dir of (path ?? DEFAULT_PATH).split(delimiter)) {
    const candidate = join(dir || '.', name);
    if (!isFile(candidate)) continue;
    if (isExecutable(candidate)) return { found: candidate, unusable };
    unusable ??= candidate;
  }
  return { found: undefined, unusable };
}

/** True when `path` may be executed by this process. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
