import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { NotifySocket } from '../helpers/notify-socket.js';
import { freePort, isAlive } from '../helpers/processes.js';
import { readyServiceProject, startReadyService, startedPids } from '../helpers/ready-service.js';
const hasNotify = spawnSync('python3', ['-c', 'import socket; socket.SO_PASSCRED'], { stdio: 'ignore' }).status === 0 && spawnSync('systemd-notify', ['--help'], { stdio: 'ignore' }).status === 0;

const sockets: NotifySocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) await socket.close();
});

const project = (ready: string, extra = ''): string => readyServiceProject(`ready: ${ready}\n${extra}`);

async function notifySocket(dir: string): Promise<NotifySocket> {
  const socket = new NotifySocket(dir);
  sockets.push(socket);
  await socket.ready();
  return socket;
}

const readyMessages = (socket: NotifySocket): string[] => socket.received.map((n) => n.message).filter((m) => m.startsWith('READY=1'));

describe('ready: the child is ready once its check passes', () => {
  it('tcp: READY=1 goes to systemd only once the port is open, not when the child was spawned', async (context) => {
    context.skip(!hasNotify, 'needs python3 and systemd-notify');
    const port = await freePort();
    const dir = project(`{ tcp: "127.0.0.1:${port}", interval: 50ms }`);
    const socket = await notifySocket(dir);
    const cli = startReadyService(dir, { PORT: String(port), LISTEN_DELAY_MS: '1500', NOTIFY_SOCKET: socket.path });
    await cli.waitForStdout('started ');
    const spawnedAt = Date.now();
    const statuses = (): string[] => socket.received.map((n) => n.message).filter((m) => m.startsWith('STATUS='));
    await socket.waitFor(() => statuses().some((m) => m.includes('(waiting for readiness)')), 'STATUS= saying the child is waiting for readiness');
    expect(readyMessages(socket)).toEqual([]);
    await socket.message('READY=1');
    expect(Date.now() - spawnedAt).toBeGreaterThanOrEqual(1_200);
    // The port was open when systemd heard of it.
    expect(cli.stdout).toMatch(/^listening \d+$/m);
    await cli.waitForStderr('is ready after');
    expect(logText(cli.stderr)).toMatch(new RegExp(`the child \\(pid \\d+\\) is ready after \\d+ ms \\(tcp 127\\.0\\.0\\.1:${port}\\)`));
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(readyMessages(socket)).toHaveLength(1);
  });

  it('http: a 2xx answer is ready', async () => {
    const port = await freePort();
    const dir = project(`{ http: "http://127.0.0.1:${port}/healthz", interval: 50ms }`);
    const cli = startReadyService(dir, { PORT: String(port) });
    await cli.waitForStderr('is ready after');
    expect(logText(cli.stderr)).toContain(`(http http://127.0.0.1:${port}/healthz)`);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });

  it('http: a child answering 500 is never ready: stopped, logged with the check and timeout, exit 69 (onExit: exit)', async (context) => {
    context.skip(!hasNotify, 'needs python3 and systemd-notify');
    const port = await freePort();
    const dir = project(`{ http: "http://127.0.0.1:${port}/healthz", timeout: 1s, interval: 100ms }`);
    const socket = await notifySocket(dir);
    const cli = startReadyService(dir, { PORT: String(port), HTTP_STATUS: '500', NOTIFY_SOCKET: socket.path });
    await cli.waitForStdout('listening ');
    const [pid] = startedPids(cli);
    const result = await cli.exited();
    expect(result.code).toBe(69);
    const log = logText(result.stderr);
    expect(log).toContain(`the child (pid ${pid}) was not ready within ready.timeout 1s (http http://127.0.0.1:${port}/healthz`);
    expect(log).toContain('last: HTTP 500)');
    expect(log).toContain('the child was not ready in time; exiting with 69');
    expect(isAlive(pid!)).toBe(false);
    expect(readyMessages(socket)).toEqual([]);
  });

  it("command: ready once it exits 0; it runs with the child's environment", async () => {
    const dir = project('{ command: [/bin/sh, -c, "test -n \\"$DB_PASSWORD\\" && test -e ready.flag"], interval: 50ms }');
    const cli = startReadyService(dir, { PORT: String(await freePort()) });
    // The check does not look at the child: its SIGTERM handler must be in before the stop below.
    await cli.waitForStdout('started ');
    expect(cli.stderr).not.toContain('is ready after');
    writeFileSync(join(dir, 'ready.flag'), '');
    await cli.waitForStderr('is ready after');
    expect(logText(cli.stderr)).toMatch(/is ready after \d+ ms \(command \/bin\/sh -c test -n "\$DB_PASSWORD" && test -e ready\.flag\)/);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });

  it('a child that never becomes ready is handled like a crash: onExit: restart restarts it with backoff', async () => {
    const port = await freePort();
    const dir = project(`{ tcp: "127.0.0.1:${port}", timeout: 500ms, interval: 100ms }`, 'onExit: restart\n');
    const cli = startReadyService(dir, { PORT: String(port), LISTEN_DELAY_MS: '600000' });
    await cli.waitFor((c) => startedPids(c).length >= 2, 'a second child');
    const [first, second] = startedPids(cli);
    expect(isAlive(first!)).toBe(false);
    expect(isAlive(second!)).toBe(true);
    const log = logText(cli.stderr);
    expect(log).toContain(`the child (pid ${first}) was not ready within ready.timeout 500ms (tcp 127.0.0.1:${port}, `);
    expect(log).toContain('last: ECONNREFUSED); stopping it');
    expect(log).toMatch(/the child was not ready in time; restarting in \d+ms \(restart 1 in a row\)/);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(isAlive(second!)).toBe(false);
  });

  it('a stop during the wait ends it at once', async () => {
    const port = await freePort();
    const dir = project(`{ tcp: "127.0.0.1:${port}", timeout: 60s }`);
    const cli = startReadyService(dir, { PORT: String(port), LISTEN_DELAY_MS: '600000' });
    await cli.waitForStderr('waiting for the child');
    await cli.waitForStdout('started ');
    const stoppedAt = Date.now();
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(logText(cli.stderr)).not.toContain('was not ready');
  });
});

describe('ready: bad config is exit 78 with what to fix', () => {
  it.each([
    ['{}', 'ready: names no check: give one of tcp, http and command'],
    ['{ tcp: "127.0.0.1:80", command: [/bin/true] }', 'ready: gives tcp and command: give exactly one of tcp, http and command'],
    ['{ http: "file:///etc/passwd" }', 'ready.http: file is not http or https'],
    ['{ tcp: "localhost" }', 'expected host:port'],
    ['{ tcp: "127.0.0.1:80", tmeout: 5s }', 'unknown key "tmeout"'],
    ['{ command: [] }', 'expected a program and its arguments'],
  ])('ready: %s', async (ready, message) => {
    const dir = project(ready);
    const result = await runCli(['run', '-c', join(dir, 'secretvisor.yaml'), '--', '/bin/true'], { cwd: dir, env: baseEnv() });
    expect(result.code).toBe(78);
    expect(logText(result.stderr)).toContain(message);
  });

  it('a ready: command that is not found fails at once with 127', async () => {
    const dir = project('{ command: [no-such-check, --quiet] }');
    const result = await runCli(['run', '-c', join(dir, 'secretvisor.yaml'), '--', '/bin/true'], { cwd: dir, env: baseEnv() });
    expect(result.code).toBe(127);
    expect(logText(result.stderr)).toContain('command not found: no-such-check');
  });

  it('onChange.strategy: overlap without ready: is refused', async () => {
    const dir = readyServiceProject('onChange: { strategy: overlap }\n');
    const result = await runCli(['run', '-c', join(dir, 'secretvisor.yaml'), '--', '/bin/true'], { cwd: dir, env: baseEnv() });
    expect(result.code).toBe(78);
    expect(logText(result.stderr)).toContain('onChange.strategy is overlap, but there is no ready: check');
  });
});
