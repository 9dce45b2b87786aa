import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { handlesSignal } from '../../../src/child/signal-disposition.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Starts `file args` and waits until it printed its first line (its handlers are in by then). */
async function startReady(file: string, args: string[]): Promise<number> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await once(child.stdout as NodeJS.ReadableStream, 'data');
  return child.pid as number;
}

describe.skipIf(process.platform !== 'linux')('handlesSignal', () => {
  it('is false for a program that leaves SIGHUP at its default (which ends it)', async () => {
    const pid = await startReady('/bin/sh', ['-c', 'echo up; exec sleep 30']);
    await expect.poll(() => handlesSignal(pid, 'SIGHUP')).toBe(false);
  });

  it('is true once a program has a handler for it, and only for that signal', async () => {
    const pid = await startReady(process.execPath, ['-e', "process.on('SIGHUP', () => {}); console.log('up'); setInterval(() => {}, 1e6)"]);
    expect(handlesSignal(pid, 'SIGHUP')).toBe(true);
    expect(handlesSignal(pid, 'SIGUSR2')).toBe(false);
  });

  it('is true for a signal the program ignores', async () => {
    const pid = await startReady('/bin/sh', ['-c', 'trap "" HUP; echo up; while :; do sleep 1; done']);
    expect(handlesSignal(pid, 'SIGHUP')).toBe(true);
  });

  it('cannot tell for a process that is gone', async () => {
    const child = spawn('/bin/true');
    await once(child, 'exit');
    expect(handlesSignal(child.pid as number, 'SIGHUP')).toBeUndefined();
  });
});
