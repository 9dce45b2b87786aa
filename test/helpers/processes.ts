import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { PollTimeoutError, pollUntil } from './poll-until.js';

/** True while `pid` is a live process (a zombie counts as dead: it runs no code). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
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
