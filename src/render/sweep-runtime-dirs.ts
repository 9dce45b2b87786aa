import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { removeTree } from './remove-tree.js';
import { RUNTIME_DIR_PREFIX } from './runtime-dir.js';
import type { FileOwner } from './write-files.js';
import { errnoOf } from '../lib/errno.js';

/** Options of {@link sweepRuntimeDirs}; the defaults are the real process's. */
export interface SweepOptions {
  readonly log: Logger;
  /** The child's user: folders it owns are ours too (they were made for it). */
  readonly childUser?: FileOwner | undefined;
  readonly pid?: number;
  readonly euid?: number;
  readonly isAlive?: (pid: number) => boolean;
}

// mkdtemp appends six characters to `secretvisor.<pid>.`.
const RUNTIME_DIR_NAME = new RegExp(`^${RUNTIME_DIR_PREFIX.replace('.', '\\.')}(\\d+)\\.[A-Za-z0-9]{6}$`);

/**
 * True when `name` is the runtime folder of a run that is over: its pid is
 * not alive, or it is our own pid — this run has not made its folder yet, so
 * that one is from an earlier life of a container where we are PID 1 again.
 */
export function isLeftover(name: string, options: { readonly pid: number; readonly isAlive: (pid: number) => boolean }): boolean {
  const match = RUNTIME_DIR_NAME.exec(name);
  if (match === null) return false;
  const pid = Number(match[1]);
  return pid === options.pid || !options.isAlive(pid);
}

/**
 * Removes, from the runtime base, the folders earlier runs left when they
 * were killed (SIGKILL, OOM, power loss): those named after a pid that is no
 * longer alive, and owned by secretvisor's user or the child's. Best effort:
 * a folder that cannot be removed is logged and left. Resolves with the count removed.
 */
export async function sweepRuntimeDirs(base: string, options: SweepOptions): Promise<number> {
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? isProcessAlive;
  const owners = new Set([options.euid ?? process.geteuid?.() ?? 0, ...(options.childUser === undefined ? [] : [options.childUser.uid])]);
  const names = await readdir(base).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!isLeftover(name, { pid, isAlive })) continue;
    const path = join(base, name);
    try {
      const stats = await lstat(path);
      if (!stats.isDirectory() || !owners.has(stats.uid)) continue;
      await removeTree(path, options.euid === undefined ? {} : { euid: options.euid });
      removed.push(name);
    } catch (error) {
      options.log.warn({ path, err: describeError(error) }, `could not remove ${path}, left by an earlier run: ${describeError(error)}`);
    }
  }
  if (removed.length > 0) {
    options.log.info({ base, folders: removed }, `removed ${removed.length} runtime folder(s) left in ${base} by runs that were killed`);
  }
  return removed.length;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return errnoOf(error) === 'EPERM';
  }
}
