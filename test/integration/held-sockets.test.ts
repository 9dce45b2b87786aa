import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, RunningCli, baseEnv, startCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { describeReal, onPath } from '../real/tools/require-tool.js';
import { freePort } from '../helpers/processes.js';

const SOCKET_CHILD = fileURLToPath(new URL('../fixtures/socket-child.mjs', import.meta.url));
const IS_ROOT = process.geteuid?.() === 0;
const NOBODY = 65534;

/** What socket-child.mjs printed at start. */
interface StartRecord {
  readonly pid: number;
  readonly uid: number;
  readonly LISTEN_PID: string | null;
  readonly LISTEN_FDS: string | null;
  readonly LISTEN_FDNAMES: string | null;
  readonly envNames: readonly string[];
  readonly sockets: readonly boolean[];
}

function starts(cli: RunningCli): StartRecord[] {
  return cli.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as StartRecord);
}

async function waitForStarts(cli: RunningCli, count: number): Promise<StartRecord[]> {
  await cli.waitFor((c) => starts(c).length >= count, `${count} child start(s)`);
  return starts(cli);
}

/** The port secretvisor logged for a held TCP socket (the config asks for port 0). */
async function heldPort(cli: RunningCli, name: string): Promise<number> {
  const pattern = new RegExp(`holding socket "${name}" on 127\\.0\\.0\\.1:(\\d+)`);
  await cli.waitFor((c) => pattern.test(logText(c.stderr)), `socket ${name} to be held`);
  return Number(pattern.exec(logText(cli.stderr))?.[1]);
}

/** One HTTP GET on a new connection; rejects with the socket error (ECONNREFUSED…). */
function get(target: { port: number } | { socketPath: string }, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, host: '127.0.0.1', path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body.trim()));
    });
    req.on('error', reject).end();
  });
}

function supervise(config: string, files: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): { cli: RunningCli; dir: string } {
  const dir = makeProject({ 'secretvisor.yaml': config, 'app.env': `TOKEN=${randomSecret('token')}\n`, ...files });
  const cli = startCli(['run', '-c', join(dir, 'secretvisor.yaml'), '--', process.execPath, SOCKET_CHILD], { cwd: dir, env: baseEnv(env) });
  return { cli, dir };
}

const SOURCES = 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\n';

describe('listen: held sockets', () => {
  it('gives the child its sockets by the socket-activation protocol: fds from 3, LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID = its own pid, nothing else', async () => {
    const { cli, dir } = supervise(`${SOURCES}inherit: none\nlisten:\n  - { name: web, tcp: "127.0.0.1:0" }\n  - { name: admin, unix: admin.sock, mode: "0660" }\n`);
    const [child] = await waitForStarts(cli, 1);
    expect(child?.LISTEN_PID).toBe(String(child?.pid));
    expect(child?.LISTEN_FDS).toBe('2');
    expect(child?.LISTEN_FDNAMES).toBe('web:admin');
    expect(child?.sockets).toEqual([true, true]);
    expect(child?.envNames).toEqual(['LISTEN_FDNAMES', 'LISTEN_FDS', 'LISTEN_PID', 'TOKEN']);
    const socketPath = join(dir, 'admin.sock');
    expect(lstatSync(socketPath).isSocket()).toBe(true);
    expect(lstatSync(socketPath).mode & 0o777).toBe(0o660);
    expect(await get({ port: await heldPort(cli, 'web') })).toBe(`pid=${child?.pid} name=web`);
    expect(await get({ socketPath })).toBe(`pid=${child?.pid} name=admin`);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('keeps the socket across a rotation restart: the new child gets the same socket with its own LISTEN_PID', async () => {
    const { cli, dir } = supervise(`${SOURCES}onChange: { debounce: 50ms }\nlisten:\n  - { name: web, tcp: "127.0.0.1:0" }\n`);
    const port = await heldPort(cli, 'web');
    const [first] = await waitForStarts(cli, 1);
    expect(await get({ port })).toBe(`pid=${first?.pid} name=web`);
    writeFileSync(join(dir, 'app.env'), `TOKEN=${randomSecret('token')}\n`);
    const second = (await waitForStarts(cli, 2))[1];
    expect(second?.pid).not.toBe(first?.pid);
    expect(second?.LISTEN_PID).toBe(String(second?.pid));
    expect(await get({ port })).toBe(`pid=${second?.pid} name=web`);
  });

  it('queues a connection made while no child runs, and the next child answers it instead of it being refused', async () => {
    const { cli } = supervise(`${SOURCES}onExit: restart\nlisten:\n  - { name: web, tcp: "127.0.0.1:0" }\n`);
    const port = await heldPort(cli, 'web');
    const [first] = await waitForStarts(cli, 1);
    expect(await get({ port }, '/exit')).toBe(`pid=${first?.pid} name=web`);
    // secretvisor waits out its crash backoff (500 ms) before the next child: nobody accepts meanwhile.
    await cli.waitForStderr('restarting in');
    const answer = get({ port });
    const [, second] = await waitForStarts(cli, 2);
    expect(await answer).toBe(`pid=${second?.pid} name=web`);
  });

  it('never passes on LISTEN_* variables meant for another process', async () => {
    const { cli } = supervise(SOURCES, {}, { LISTEN_FDS: '1', LISTEN_PID: '1', LISTEN_FDNAMES: 'stray' });
    const [child] = await waitForStarts(cli, 1);
    expect(child?.envNames.filter((name) => name.startsWith('LISTEN_'))).toEqual([]);
    expect(child?.sockets).toEqual([]);
    expect(logText(cli.stderr)).toContain("LISTEN_PID is 1, not secretvisor's pid");
  });

  it.skipIf(!IS_ROOT)('with user:, the child runs as that user and the Unix socket belongs to it', async () => {
    const { cli, dir } = supervise(`${SOURCES}user: ${NOBODY}\ngroup: ${NOBODY}\nlisten:\n  - { name: api, unix: api.sock }\n`);
    chmodSync(dir, 0o711);
    const [child] = await waitForStarts(cli, 1);
    expect(child?.uid).toBe(NOBODY);
    const socketPath = join(dir, 'api.sock');
    expect(lstatSync(socketPath).uid).toBe(NOBODY);
    expect(lstatSync(socketPath).mode & 0o777).toBe(0o660);
    expect(await get({ socketPath })).toBe(`pid=${child?.pid} name=api`);
  });
});

const socketActivate = onPath('systemd-socket-activate');

describeReal('socket-activated secretvisor (systemd-socket-activate)', { tools: { 'systemd-socket-activate': socketActivate }, install: 'apt-get install systemd' }, () => {
  it('passes the sockets systemd gave it on to every child, before its own listen: ones, each with the child’s own LISTEN_PID', async () => {
    const dir = makeProject({
      'secretvisor.yaml': `${SOURCES}inherit: none\nonExit: restart\nlisten:\n  - { name: admin, unix: admin.sock }\n`,
      'app.env': `TOKEN=${randomSecret('token')}\n`,
    });
    const port = await freePort();
    const env = baseEnv();
    const child = spawn(
      socketActivate as string,
      ['-l', `127.0.0.1:${port}`, '--fdname=web', '-E', `PATH=${env.PATH}`, process.execPath, CLI, 'run', '-c', join(dir, 'secretvisor.yaml'), '--', process.execPath, SOCKET_CHILD],
      { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const cli = new RunningCli(child);
    // systemd-socket-activate starts secretvisor on the first connection, which then waits in the backlog.
    await cli.waitForStderr(`Listening on 127.0.0.1:${port} as 3.`);
    const firstAnswer = get({ port });
    const [first] = await waitForStarts(cli, 1);
    expect(first?.LISTEN_FDNAMES).toBe('web:admin');
    expect(first?.LISTEN_PID).toBe(String(first?.pid));
    expect(first?.sockets).toEqual([true, true]);
    expect(first?.envNames).toEqual(['LISTEN_FDNAMES', 'LISTEN_FDS', 'LISTEN_PID', 'TOKEN']);
    expect(await firstAnswer).toBe(`pid=${first?.pid} name=web`);
    expect(logText(cli.stderr)).toContain('passing socket "web" (fd 3, from socket activation)');
    // The next child gets the same socket again.
    await get({ port }, '/exit');
    const [, second] = await waitForStarts(cli, 2);
    expect(second?.LISTEN_PID).toBe(String(second?.pid));
    expect(await get({ port })).toBe(`pid=${second?.pid} name=web`);
    expect(await get({ socketPath: join(dir, 'admin.sock') })).toBe(`pid=${second?.pid} name=admin`);
  });
});
