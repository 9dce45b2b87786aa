import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, RunningCli, baseEnv, startCli } from '../helpers/cli.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { NotifySocket, type Notification } from '../helpers/notify-socket.js';

const RECORD_ENV = fileURLToPath(new URL('../fixtures/record-env.mjs', import.meta.url));
/** Service-manager plumbing that must never reach the child. */
const PLUMBING = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'];
const NOBODY = 65_534;

const hasPython = spawnSync('python3', ['-c', 'import socket; socket.SO_PASSCRED'], { stdio: 'ignore' }).status === 0;
const hasSystemdNotify = spawnSync('systemd-notify', ['--help'], { stdio: 'ignore' }).status === 0;
const isRoot = process.getuid?.() === 0;
const missing = !hasPython ? 'python3 (the test notify socket)' : !hasSystemdNotify ? 'systemd-notify (apt-get install systemd)' : undefined;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  readonly dir: string;
  readonly socket: NotifySocket;
  readonly recordFile: string;
  readonly secret: string;
}

async function setUp(owner?: number): Promise<Setup> {
  const dir = tempDir('sv-notify-');
  const secret = randomSecret('notify-db-password');
  writeSecretFile(join(dir, 'app.env'), `DB_PASSWORD=${secret}\n`);
  writeFileSync(join(dir, 'secretvisor.yaml'), 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nscopes:\n  global: [app]\n');
  const recordFile = join(dir, 'record.jsonl');
  if (owner !== undefined) {
    for (const path of [dir, join(dir, 'app.env'), join(dir, 'secretvisor.yaml')]) chownSync(path, owner, owner);
    chmodSync(dir, 0o755);
  }
  const socket = new NotifySocket(dir);
  cleanups.push(() => socket.close());
  await socket.ready();
  return { dir, socket, recordFile, secret };
}

function startSupervised(setup: Setup, extraEnv: NodeJS.ProcessEnv = {}, wrapper: readonly string[] = [], config = 'secretvisor.yaml'): RunningCli {
  const env = baseEnv({
    NOTIFY_SOCKET: setup.socket.path,
    WATCHDOG_USEC: '30000000',
    WATCHDOG_PID: String(process.pid),
    RECORD_FILE: setup.recordFile,
    RECORD_KEYS: ['DB_PASSWORD', ...PLUMBING].join(','),
    SECRETVISOR_LOG_FORMAT: 'json',
    ...extraEnv,
  });
  const args = ['run', '-c', join(setup.dir, config), '--', process.execPath, RECORD_ENV];
  const cli = wrapper.length === 0 ? startCli(args, { cwd: setup.dir, env }) : startCliWrapped(wrapper, args, setup.dir, env);
  cleanups.push(() => cli.discard());
  return cli;
}

/** Starts the CLI under a wrapper such as `setpriv --reuid=…`, which execs it in place (same PID). */
function startCliWrapped(wrapper: readonly string[], args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): RunningCli {
  const [program, ...rest] = wrapper as [string, ...string[]];
  const child = spawn(program, [...rest, process.execPath, CLI, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin?.end();
  return new RunningCli(child);
}

function records(file: string): { event: string; values: Record<string, string | null> }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string; values: Record<string, string | null> });
}

describe('systemd notification (Type=notify)', () => {
  it('sends READY=1 with MAINPID once the child runs, and STOPPING=1 on SIGTERM; the child gets no NOTIFY_SOCKET or WATCHDOG_*', async (context) => {
    context.skip(missing !== undefined, `needs ${missing}`);
    const setup = await setUp();
    const cli = startSupervised(setup);

    const ready = await setup.socket.message('READY=1');
    expect(ready.message.split('\n').sort()).toEqual([`MAINPID=${cli.pid}`, 'READY=1']);
    if (isRoot) {
      // As systemd sees it: the message comes from the main PID (NotifyAccess=main is enough as root)…
      expect(ready.sender).toBe(cli.pid);
      // …and at that moment the service already runs as secretvisor's child.
      expect(ready.senderChildren.some((line) => line.includes(RECORD_ENV))).toBe(true);
    }
    await cli.waitForStdout('ready ');

    cli.kill('SIGTERM');
    const stopping = await setup.socket.message('STOPPING=1');
    if (isRoot) expect(stopping.sender).toBe(cli.pid);
    const result = await cli.exited();
    expect(result.code).toBe(0);

    // STATUS= and WATCHDOG=1 come and go on their own schedule (tested below).
    const states = setup.socket.received.map((n) => n.message).filter((m) => !/^(BARRIER|STATUS|WATCHDOG)/.test(m));
    expect(states).toEqual([`READY=1\nMAINPID=${cli.pid}`, 'STOPPING=1']);
    const [start] = records(setup.recordFile);
    expect(start?.values.DB_PASSWORD).toBe(setup.secret);
    for (const name of PLUMBING) expect(start?.values[name], `${name} reached the child`).toBeNull();
  });

  it('as another user, systemd-notify is the sender, which is why such units need NotifyAccess=all', async (context) => {
    context.skip(missing !== undefined, `needs ${missing}`);
    context.skip(!isRoot, 'needs root to run secretvisor as another user');
    const setup = await setUp(NOBODY);
    const cli = startSupervised(setup, {}, ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups']);

    const ready = await setup.socket.message('READY=1');
    expect(ready.message).toContain(`MAINPID=${cli.pid}`);
    expect(ready.sender).not.toBe(cli.pid);
    await cli.waitForStdout('ready ');
    cli.kill('SIGTERM');
    await setup.socket.message('STOPPING=1');
    expect((await cli.exited()).code).toBe(0);
  });

  it('without systemd-notify on PATH, says so and runs the service anyway', async (context) => {
    context.skip(!hasPython, 'needs python3 (the test notify socket)');
    const setup = await setUp();
    const cli = startSupervised(setup, { PATH: '/nonexistent' });
    await cli.waitForStdout('ready ');
    await cli.waitForStderr('systemd-notify is not on PATH');
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(setup.socket.received).toEqual([]);
  });

  it('keeps STATUS= current: the child pid and uptime, fresh/stale/failing sources, the last rotation', async (context) => {
    context.skip(missing !== undefined, `needs ${missing}`);
    const setup = await setUp();
    writeFileSync(join(setup.dir, 'refresh.yaml'), 'version: 1\nsources:\n  app: { type: dotenv, path: app.env, refresh: 1s }\nscopes:\n  global: [app]\n');
    const cli = startSupervised(setup, {}, [], 'refresh.yaml');
    await cli.waitForReadyChildren(1);
    const statuses = (): string[] => setup.socket.received.map((n) => n.message).filter((m) => m.startsWith('STATUS='));
    const firstChild = Number(/^ready (\d+)$/m.exec(cli.stdout)?.[1]);
    await setup.socket.waitFor(() => statuses().includes(`STATUS=child ${firstChild} up <1m; sources: 1 fresh, 0 stale, 0 failing; no rotation yet`), 'the first STATUS=');
    // Before the child runs, systemd already shows that secretvisor is starting.
    expect(statuses()[0]).toMatch(/^STATUS=starting; sources: 0 fresh/);

    writeSecretFile(join(setup.dir, 'app.env'), `DB_PASSWORD=${randomSecret('notify-rotated')}\n`);
    await cli.waitForReadyChildren(2);
    const secondChild = Number([...cli.stdout.matchAll(/^ready (\d+)$/gm)][1]?.[1]);
    await setup.socket.waitFor(() => statuses().includes(`STATUS=child ${secondChild} up <1m; sources: 1 fresh, 0 stale, 0 failing; last rotation <1m ago`), 'STATUS= after the rotation');

    writeSecretFile(join(setup.dir, 'app.env'), `DB_PASSWORD=${randomSecret('notify-broken')}\nnot a line\n`);
    await setup.socket.waitFor(() => statuses().some((m) => m.includes('sources: 0 fresh, 0 stale, 1 failing')), 'STATUS= with the failing source');
    // A source failing for longer than its refresh (1 s) is stale; the line is looked at every 15 s at most.
    await setup.socket.waitFor(() => statuses().some((m) => m.includes('sources: 0 fresh, 1 stale, 0 failing')), 'STATUS= with the stale source', 40_000);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    // Each line is sent once, when it changes.
    expect(new Set(statuses()).size).toBe(statuses().length);
  }, 60_000);

  it('with WATCHDOG_USEC, sends WATCHDOG=1 at half the interval while it runs', async (context) => {
    context.skip(missing !== undefined, `needs ${missing}`);
    const setup = await setUp();
    const cli = startSupervised(setup, { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '' });
    await cli.waitForReadyChildren(1);
    const pings = (): Notification[] => setup.socket.received.filter((n) => n.message === 'WATCHDOG=1');
    await setup.socket.waitFor(() => pings().length >= 4, 'four WATCHDOG=1 pings', 20_000);
    if (isRoot) expect(pings().every((ping) => ping.sender === cli.pid)).toBe(true);
    // SIGSTOP freezes the event loop as a hang would: no more pings, so systemd would restart it.
    cli.kill('SIGSTOP');
    // A systemd-notify started just before may still deliver its ping.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const frozen = pings().length;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(pings().length).toBe(frozen);
    cli.kill('SIGCONT');
    await setup.socket.waitFor(() => pings().length > frozen, 'pings again once the loop runs');
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  }, 60_000);

  it.for<[string, NodeJS.ProcessEnv]>([
    ['WATCHDOG_PID names another process', { WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }],
    ['WATCHDOG_USEC is unset', { WATCHDOG_USEC: '' }],
  ])('sends no WATCHDOG=1 when %s', async ([, env], context) => {
    context.skip(missing !== undefined, `needs ${missing}`);
    const setup = await setUp();
    const cli = startSupervised(setup, env);
    await cli.waitForReadyChildren(1);
    await setup.socket.message('READY=1');
    // Three intervals of the 1 s watchdog it must not answer: STATUS= goes on, no ping comes.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(setup.socket.received.some((n) => n.message.startsWith('STATUS='))).toBe(true);
    expect(setup.socket.received.filter((n) => n.message === 'WATCHDOG=1')).toEqual([]);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });

  it('an invalid WATCHDOG_USEC is logged and ignored', async (context) => {
    context.skip(missing !== undefined, `needs ${missing}`);
    const setup = await setUp();
    const cli = startSupervised(setup, { WATCHDOG_USEC: 'soon', WATCHDOG_PID: '' });
    await cli.waitForStderr('WATCHDOG_USEC=soon is not a positive number of microseconds');
    await cli.waitForReadyChildren(1);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });
});
