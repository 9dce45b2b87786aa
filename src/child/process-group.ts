import { readdirSync, readFileSync } from 'node:fs';
import { sleepOn, type Clock } from '../clock.js';
import { errnoOf } from '../lib/errno.js';

/** Sends `signal` to every process of group `pgid`; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ESRCH') return false;
    throw error;
  }
}

/**
 * True while a process of group `pgid` still runs. Zombies do not count:
 * as PID 1 without tini nobody reaps them, and they run no code. Where
 * /proc is missing, any member counts.
 */
function isGroupAlive(pgid: number): boolean {
  let alive: boolean;
  try {
    alive = signalGroup(pgid, 0);
  } catch {
    alive = true;
  }
  return alive && (liveMembers(pgid)?.length ?? 1) > 0;
}

/** The pids of group `pgid` that still run (zombies left out); undefined where /proc is missing. */
export function liveMembers(pgid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat === undefined) continue;
    // Fields after the parenthesised command name: state ppid pgrp …
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
}

/** The process group of `pid`; undefined once it is gone or where /proc is missing. */
export function processGroupOf(pid: number): number | undefined {
  const stat = readStat(String(pid));
  if (stat === undefined) return undefined;
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

function readStat(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

const GROUP_POLL_MS = 20;

/** How long {@link waitForGroupGone} waits, and on which clock. */
export interface GroupWaitOptions {
  readonly timeoutMs: number;
  readonly clock: Clock;
}

/**
 * Resolves true once group `pgid` has no live process left, false if it
 * still has one after `timeoutMs`. The kernel sends no event for an empty
 * group, so this polls — only during a stop, never while idle.
 */
export async function waitForGroupGone(pgid: number, { timeoutMs, clock }: GroupWaitOptions): Promise<boolean> {
  const deadline = clock.now() + timeoutMs;
  while (isGroupAlive(pgid)) {
    if (clock.now() >= deadline) return false;
    await sleepOn(clock, GROUP_POLL_MS);
  }
  return true;
}
