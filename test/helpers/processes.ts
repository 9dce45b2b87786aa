import { readFileSync, readdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { PollTimeoutError, pollUntil } from './poll-until.js';

/** One process as /proc/PID/stat describes it. */
export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Its process group. */
  readonly pgid: number;
  /** The name the kernel keeps for it (comm). */
  readonly name: string;
  /** R, S, D, Z (a zombie: ended, not yet reaped by its parent), … */
  readonly state: string;
}

/** What /proc says of `pid`, or undefined once it is gone. */
export function processEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const [state = '?', ppid, pgid] = stat.slice(close + 2).split(' ');
    return { pid, ppid: Number(ppid), pgid: Number(pgid), name: stat.slice(stat.indexOf('(') + 1, close), state };
  } catch {
    return undefined;
  }
}

/** Every process below `root`, zombies included. */
export function descendants(root: number): ProcessEntry[] {
  const table = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => processEntry(Number(entry)) ?? []);
  const found: ProcessEntry[] = [];
  let frontier = new Set([root]);
  while (frontier.size > 0) {
    const next = table.filter((proc) => frontier.has(proc.ppid));
    found.push(...next);
    frontier = new Set(next.map((proc) => proc.pid));
  }
  return found;
}

/** True while `pid` is a live process (a zombie counts as dead: it runs no code). */
export function isAlive(pid: number): boolean {
  const state = processEntry(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** True when `pid` is a child of this test process that ended and was never reaped. */
export function isOurZombie(pid: number): boolean {
  const entry = processEntry(pid);
  return entry?.state === 'Z' && entry.ppid === process.pid;
}

/**
 * SIGKILLs `pid` and everything below it, each with its process group (a
 * supervised child leads one of its own), except the group of this test
 * process. `pid` is frozen first, so that it starts nothing new meanwhile.
 */
export function killWithDescendants(pid: number): void {
  signal(pid, 'SIGSTOP');
  const ownGroup = processEntry(process.pid)?.pgid;
  for (const below of descendants(pid)) {
    if (below.pgid > 1 && below.pgid !== ownGroup) signal(-below.pgid, 'SIGKILL');
    signal(below.pid, 'SIGKILL');
  }
  signal(pid, 'SIGKILL');
}

// A process may end (or its group empty) between the look and the signal.
function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Waits until `pid` is dead; false if it still lives after `timeoutMs`. */
export function waitForDeath(pid: number, timeoutMs = 10_000): Promise<boolean> {
  return pollUntil(() => !isAlive(pid), `process ${pid} to end`, { timeoutMs }).catch((error: unknown) => {
    if (error instanceof PollTimeoutError) return false;
    throw error;
  });
}

/** Resolves true when something accepts a TCP connection on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A port free right now on 127.0.0.1 (for a config that must name it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
