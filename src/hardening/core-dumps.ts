import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { errnoOf } from '../lib/errno.js';

/** What switching core dumps off achieved; `warning` says what is left when a step failed. */
interface CoreDumpState {
  readonly warning: string | undefined;
}

let pending: Promise<CoreDumpState> | undefined;
let reported = false;

/**
 * Starts switching secretvisor's own core dumps off, before any secret is
 * read: a core file of secretvisor holds every value it handles. Node
 * cannot call setrlimit(2), so util-linux's `prlimit` sets RLIMIT_CORE to
 * 0:0 on our pid (a few ms, run while the config loads), and
 * /proc/self/coredump_filter is set to 0 at once, so even a core written
 * by a pipe handler that ignores the limit holds no heap or stack. The
 * child inherits both. Linux only; idempotent.
 */
export function startDisablingCoreDumps(): void {
  if (pending !== undefined || process.platform !== 'linux') return;
  let filterWarning: string | undefined;
  try {
    writeFileSync('/proc/self/coredump_filter', '0');
  } catch (error) {
    filterWarning = `cannot write /proc/self/coredump_filter (${errnoOf(error) ?? 'error'})`;
  }
  pending = new Promise<CoreDumpState>((resolve) => {
    execFile('prlimit', [`--pid=${process.pid}`, '--core=0:0'], { timeout: 5_000 }, (error) => {
      const limitWarning = error === null ? undefined : `prlimit could not set RLIMIT_CORE to 0 (${errnoOf(error) ?? error.message.split('\n')[0]})`;
      const warning = [limitWarning, filterWarning].filter((part) => part !== undefined).join('; ');
      resolve({ warning: warning === '' ? undefined : warning });
    });
  });
}

/** Resolves once core dumps are off (or as off as this host allows, warned about once in the log). */
export async function whenCoreDumpsDisabled(log: Logger): Promise<void> {
  const state = await pending;
  if (state?.warning === undefined || reported) return;
  reported = true;
  log.warn({ fix: 'install util-linux (prlimit), or set LimitCORE=0 in the unit / ulimit -c 0 before starting secretvisor' }, `core dumps of secretvisor may not be fully disabled: ${state.warning}`);
}
