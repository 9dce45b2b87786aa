import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, RunningCli } from '../helpers/cli.js';
import { isAlive } from '../helpers/processes.js';
import { expectNoLeak, randomSecret } from '../helpers/secrets.js';

// What separate users give two services without systemd: two `secretvisor run`, each as its own user,
// and the second user trying every way at the first one's secrets. The real-systemd suite
// (test/real/systemd/) proves the same of the shipped units, whose users systemd allocates.
const IS_ROOT = process.geteuid?.() === 0;
const CHILD = fileURLToPath(new URL('../fixtures/record-env.mjs', import.meta.url));

interface Service {
  readonly user: string;
  readonly uid: number;
  readonly secrets: { readonly API_TOKEN: string; readonly FILE_KEY: string };
  readonly sourceFile: string;
  readonly cli: RunningCli;
  /** The child's pid, from its "ready <pid>" line. */
  childPid: number;
  /** The file output secretvisor wrote for the child (its path from the child's environment). */
  runtimeFile: string;
}

/** Runs a program as `user` (uid, gid, no supplementary groups, no capabilities), the way a compromised service would. */
function asUser(user: string, argv: readonly string[]) {
  const result = spawnSync('setpriv', ['--reuid', user, '--regid', user, '--clear-groups', '--inh-caps=-all', '--', ...argv], { encoding: 'utf8', timeout: 10_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function uidOf(user: string): number {
  return Number(execOut('id', ['-u', user]));
}

function execOut(program: string, args: readonly string[]): string {
  const result = spawnSync(program, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Reads /proc/PID/environ as root: the test's own view, to find the child's file output. */
function environOf(pid: number): Map<string, string> {
  return new Map(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as [string, string]),
  );
}

describe.skipIf(!IS_ROOT)(IS_ROOT ? 'two services as two users' : 'two services as two users — skipped: creating users needs root (CI runs as root)', () => {
  const tag = randomBytes(3).toString('hex');
  const users = [`sv-iso-${tag}-a`, `sv-iso-${tag}-b`];
  // 0711: each user can reach its own folder inside, not list or read the others'.
  const base = join(tmpdir(), `sv-iso-${tag}`);
  const services: Service[] = [];

  beforeAll(async () => {
    mkdirSync(base, { mode: 0o711 });
    chmodSync(base, 0o711);
    for (const user of users) execOut('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', user]);
    for (const user of users) services.push(await startService(user));
  });

  afterAll(async () => {
    for (const service of services) await service.cli.discard();
    for (const service of services) if (isAlive(service.childPid)) process.kill(service.childPid, 'SIGKILL');
    for (const user of users) spawnSync('userdel', [user]);
    rmSync(base, { recursive: true, force: true });
  });

  async function startService(user: string): Promise<Service> {
    const uid = uidOf(user);
    const home = join(base, user);
    const runtime = join(home, 'run');
    mkdirSync(runtime, { recursive: true, mode: 0o700 });
    const secrets = { API_TOKEN: randomSecret(`${user}-token`), FILE_KEY: randomSecret(`${user}-file-key`) };
    const sourceFile = join(home, 'credentials.env');
    writeFileSync(sourceFile, `API_TOKEN=${secrets.API_TOKEN}\nFILE_KEY=${secrets.FILE_KEY}\n`, { mode: 0o600 });
    const config = join(home, 'secretvisor.yaml');
    writeFileSync(config, `version: 1\nsources:\n  own:\n    type: dotenv\n    path: credentials.env\nfiles:\n  - path: file-key\n    template: "{{secret.FILE_KEY}}"\n    env: FILE_KEY_PATH\n`, {
      mode: 0o644,
    });
    for (const path of [home, runtime, sourceFile]) chownSync(path, uid, uid);
    chmodSync(home, 0o700);
    // As systemd would start it: secretvisor itself runs as the service's user, its runtime folder its own.
    const child = spawn('setpriv', ['--reuid', user, '--regid', user, '--clear-groups', '--', process.execPath, CLI, 'run', '--config', config, '--', process.execPath, CHILD], {
      cwd: '/',
      env: { PATH: process.env.PATH, LANG: 'C', RUNTIME_DIRECTORY: runtime },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const cli = new RunningCli(child);
    const service: Service = { user, uid, secrets, sourceFile, cli, childPid: 0, runtimeFile: '' };
    await cli.waitForReadyChildren(1, `${user}'s child to start`);
    service.childPid = Number(/^ready (\d+)$/m.exec(cli.stdout)?.[1]);
    service.runtimeFile = environOf(service.childPid).get('FILE_KEY_PATH') ?? '';
    return service;
  }

  it('each child runs as its own user with its own secrets, file output included', () => {
    for (const service of services) {
      const environ = environOf(service.childPid);
      expect(readFileSync(`/proc/${service.childPid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${service.uid}\\s`, 'm'));
      expect(environ.get('API_TOKEN')).toBe(service.secrets.API_TOKEN);
      expect(readFileSync(service.runtimeFile, 'utf8')).toBe(service.secrets.FILE_KEY);
      expect(service.runtimeFile.startsWith(join(base, service.user, 'run'))).toBe(true);
    }
  });

  it('the other user cannot read the child’s /proc/PID/environ, its runtime file or its credentials, nor signal it', () => {
    const [victim, attacker] = services as [Service, Service];
    const attempts = {
      environ: asUser(attacker.user, ['cat', `/proc/${victim.childPid}/environ`]),
      'runtime file': asUser(attacker.user, ['cat', victim.runtimeFile]),
      'runtime folder listing': asUser(attacker.user, ['ls', join(base, victim.user, 'run')]),
      credentials: asUser(attacker.user, ['cat', victim.sourceFile]),
      'secretvisor environ': asUser(attacker.user, ['cat', `/proc/${victim.cli.pid}/environ`]),
      'SIGHUP to the child': asUser(attacker.user, ['kill', '-HUP', String(victim.childPid)]),
      'SIGTERM to secretvisor': asUser(attacker.user, ['kill', '-TERM', String(victim.cli.pid)]),
    };
    for (const [what, result] of Object.entries(attempts)) {
      expect(result.code, `${attacker.user} → ${victim.user}'s ${what} was not refused`).not.toBe(0);
      expect(result.stderr, what).toMatch(/Permission denied|Operation not permitted/);
      expectNoLeak(result.stdout, `${attacker.user} reading ${victim.user}'s ${what}`);
    }
    expect(isAlive(victim.childPid) && isAlive(victim.cli.pid)).toBe(true);
    expect(victim.cli.stdout).not.toContain('got SIGHUP');
  });

  it('the same user can: one uid is one trust, so services that must not share secrets need users of their own', () => {
    const [victim] = services as [Service];
    const environ = asUser(victim.user, ['cat', `/proc/${victim.childPid}/environ`]);
    expect(environ.code).toBe(0);
    expect(environ.stdout.split('\0')).toContain(`API_TOKEN=${victim.secrets.API_TOKEN}`);
    const file = asUser(victim.user, ['cat', victim.runtimeFile]);
    expect(file.stdout).toBe(victim.secrets.FILE_KEY);
    expect(readdirSync(join(base, victim.user, 'run')).length).toBeGreaterThan(0);
  });

  it('stops cleanly, and the runtime files go with it', async () => {
    for (const service of services) {
      service.cli.kill('SIGTERM');
      expect((await service.cli.exited()).code).toBe(0);
      expect(readdirSync(join(base, service.user, 'run'))).toEqual([]);
    }
  });
});
