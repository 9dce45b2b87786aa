import { setTimeout as sleep } from 'node:timers/promises';

/** Sends `signal` to every process of group `pgid`; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** True while any process of group `pgid` exists. */
export function isGroupAlive(pgid: number): boolean {
  try {
    return signalGroup(pgid, 0);
  } catch {
    return true;
  }
}

const GROUP_POLL_MS = 20;

/**
 * Resolves true once group `pgid` has no process left, false if it still
 * has one after `timeoutMs`. The kernel sends no event for an empty group,
 * so this polls — only during a stop, never while idle.
 */
export async function waitForGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isGroupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(GROUP_POLL_MS);
  }
  return true;
}
