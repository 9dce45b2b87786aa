import { chmodSync, chownSync, readFileSync, statSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { randomSecret } from '../helpers/secrets.js';
import { FIXTURES, makeProject } from '../helpers/project.js';

const secret = randomSecret('perm');

function dotenvProject(mode: number, policy?: string): string {
  const policyLine = policy === undefined ? '' : `permissions: ${policy}\n`;
  return makeProject({
    'secretvisor.yaml': `version: 1\n${policyLine}sources:\n  app: { type: dotenv, path: app.env }\n`,
    'app.env': { content: `APP_SECRET=${secret}\n`, mode },
  });
}

async function runPrintEnv(dir: string) {
  const out = join(dir, 'env.json');
  const result = await runCli(['run', '--once', '--', process.execPath, FIXTURES.printEnv, out], { cwd: dir });
  return { result, out };
}

describe('permissions: strict (the default)', () => {
  it.each([
    [0o644, 'group or others may access it'],
    [0o640, 'group or others may access it'],
    [0o604, 'group or others may access it'],
    [0o620, 'group or others may access it'],
  ])('refuses a secret file with mode %o: exit 77 with the path, the mode, the owner and the chmod that fixes it', async (mode, problem) => {
    const dir = dotenvProject(mode);
    const { result } = await runPrintEnv(dir);
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toContain(join(dir, 'app.env'));
    expect(logText(result.stderr)).toContain(`mode 0${mode.toString(8)}`);
    expect(logText(result.stderr)).toContain('owner uid');
    expect(logText(result.stderr)).toContain(problem);
    expect(logText(result.stderr)).toContain(`chmod 0600 '${join(dir, 'app.env')}'`);
  });

  it.each([0o600, 0o400])('accepts a secret file with mode %o', async (mode) => {
    const { result, out } = await runPrintEnv(dotenvProject(mode));
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).APP_SECRET).toBe(secret);
  });

  it('refuses a folder holding secret files that others can write', async () => {
    const dir = makeProject({
      'secretvisor.yaml': 'version: 1\nsources:\n  creds: { type: directory, path: creds }\n',
      'creds/token': secret,
    });
    chmodSync(join(dir, 'creds'), 0o777);
    const { result } = await runPrintEnv(dir);
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toContain(`folder ${join(dir, 'creds')} has mode 0777`);
    expect(logText(result.stderr)).toContain(`chmod go-w '${join(dir, 'creds')}'`);
  });

  it('checks the target of a symlinked key, not the link (Kubernetes mounts)', async () => {
    const dir = makeProject({ 'secretvisor.yaml': 'version: 1\nsources:\n  creds: { type: directory, path: creds }\n' });
    mkdirSync(join(dir, 'creds', '..2024_01_01'), { recursive: true, mode: 0o700 });
    const target = join(dir, 'creds', '..2024_01_01', 'token');
    makeFile(target, secret, 0o644);
    symlinkSync('..2024_01_01', join(dir, 'creds', '..data'));
    symlinkSync('..data/token', join(dir, 'creds', 'token'));
    const { result } = await runPrintEnv(dir);
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toContain('mode 0644');
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a secret file owned by another user (needs root to chown)', async () => {
    const dir = dotenvProject(0o600);
    chownSync(join(dir, 'app.env'), 65534, 65534);
    const { result } = await runPrintEnv(dir);
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toContain('is owned by uid 65534, not by uid 0');
    expect(logText(result.stderr)).toContain(`chown 0 '${join(dir, 'app.env')}'`);
  });

  it('refuses a key that links outside its source folder', async () => {
    const dir = makeProject({ 'secretvisor.yaml': 'version: 1\nsources:\n  creds: { type: directory, path: creds }\n', 'creds/ok': 'fine' });
    symlinkSync('/etc/passwd', join(dir, 'creds', 'shadow'));
    const { result } = await runPrintEnv(dir);
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toContain('key shadow is a link to /etc/passwd, outside the source folder');
  });
});

describe('permissions: warn and fix', () => {
  it('warn logs the finding and goes on', async () => {
    const { result, out } = await runPrintEnv(dotenvProject(0o644, 'warn'));
    expect(result.code).toBe(0);
    expect(logText(result.stderr)).toContain('group or others may access it');
    expect(JSON.parse(readFileSync(out, 'utf8')).APP_SECRET).toBe(secret);
  });

  it('fix tightens the mode to 0600 and logs what it changed', async () => {
    const dir = dotenvProject(0o644, 'fix');
    const { result } = await runPrintEnv(dir);
    expect(result.code).toBe(0);
    expect(statSync(join(dir, 'app.env')).mode & 0o777).toBe(0o600);
    expect(logText(result.stderr)).toContain(`tightened ${join(dir, 'app.env')} to 0600`);
  });

  it('a source may override the global policy', async () => {
    const dir = makeProject({
      'secretvisor.yaml': 'version: 1\npermissions: strict\nsources:\n  app: { type: dotenv, path: app.env, permissions: warn }\n',
      'app.env': { content: `APP_SECRET=${secret}\n`, mode: 0o644 },
    });
    const { result } = await runPrintEnv(dir);
    expect(result.code).toBe(0);
  });
});

function makeFile(path: string, content: string, mode: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  chmodSync(join(path, '..'), 0o700);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}
