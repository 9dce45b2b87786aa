import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { createTestUser, IS_ROOT, type TestUser } from '../helpers/users.js';

// Issue #13 item 3: permission checks that an owner of a folder cannot walk
// around. secretvisor runs as root, as on a server; a user made with
// useradd plays the other tenant of the host who owns or can write to a
// folder on the way to a secret.

let attacker: TestUser;

beforeAll(() => {
  if (IS_ROOT) attacker = createTestUser();
});

afterAll(() => {
  attacker?.remove();
});

const env = (extra: NodeJS.ProcessEnv = {}) => baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', ...extra });

/** A config in its own private folder, reading a dotenv file at `envPath`. */
function dotenvConfig(envPath: string, extra = ''): { readonly dir: string; readonly config: string } {
  const dir = tempDir('sv-perm-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(config, `version: 1\n${extra}sources:\n  app: { type: dotenv, path: '${envPath}' }\n`);
  return { dir, config };
}

describe.skipIf(!IS_ROOT)(IS_ROOT ? 'strict: every folder up to /' : 'strict: every folder up to / — skipped: needs root to play another user', () => {
  it('refuses a root-owned 0600 file in a folder another user owns (exit 77), naming the folder and the fix', async () => {
    const base = tempDir('sv-perm-');
    const shared = join(base, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    chownSync(shared, attacker.uid, attacker.gid);
    const envFile = writeSecretFile(join(shared, 'app.env'), `API_KEY=${randomSecret('api-key')}\n`);
    const { dir, config } = dotenvConfig(envFile);
    const result = await runCli(['check', '-c', config], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(77);
    const text = logText(result.stderr);
    expect(text).toContain(`folder ${shared} on the way to a secret is owned by uid ${attacker.uid}`);
    expect(text).toContain(`chown root '${shared}'`);
  });

  it('refuses a secret below a folder others can write to without the sticky bit, two levels up (exit 77)', async () => {
    const base = tempDir('sv-perm-');
    const open = join(base, 'open');
    mkdirSync(join(open, 'private'), { recursive: true });
    chmodSync(open, 0o777);
    chmodSync(join(open, 'private'), 0o700);
    const envFile = writeSecretFile(join(open, 'private', 'app.env'), `API_KEY=${randomSecret('api-key')}\n`);
    const { dir, config } = dotenvConfig(envFile);
    const result = await runCli(['check', '-c', config], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(77);
    expect(logText(result.stderr)).toContain(`folder ${open} has mode 0777`);
    expect(logText(result.stderr)).toContain(`chmod go-w '${open}'`);
  });

  it('accepts a secret below a sticky world-writable folder (as /tmp is)', async () => {
    const base = tempDir('sv-perm-');
    const sticky = join(base, 'sticky');
    mkdirSync(join(sticky, 'private'), { recursive: true });
    chmodSync(sticky, 0o1777);
    chmodSync(join(sticky, 'private'), 0o700);
    const envFile = writeSecretFile(join(sticky, 'private', 'app.env'), `API_KEY=${randomSecret('api-key')}\n`);
    const { dir, config } = dotenvConfig(envFile);
    const result = await runCli(['check', '-c', config], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(0);
  });

  it('a directory source whose keys link through a folder another user owns is refused (exit 77), as Kubernetes-style ..data links are followed', async () => {
    const keys = join(tempDir('sv-perm-'), 'keys');
    mkdirSync(keys, { mode: 0o700 });
    const theirs = join(keys, '..2026_12_01');
    mkdirSync(theirs, { mode: 0o755 });
    writeSecretFile(join(theirs, 'token'), randomSecret('token'));
    chownSync(theirs, attacker.uid, attacker.gid);
    symlinkSync('..2026_12_01', join(keys, '..data'));
    symlinkSync('..data/token', join(keys, 'TOKEN'));
    const dir = tempDir('sv-perm-');
    const config = join(dir, 'secretvisor.yaml');
    writeFileSync(config, `version: 1\nsources:\n  keys: { type: directory, path: '${keys}' }\n`);
    const result = await runCli(['check', '-c', config], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(77);
    expect(logText(result.stderr)).toContain(`folder ${theirs} on the way to a secret is owned by uid ${attacker.uid}`);
  });
});

describe.skipIf(!IS_ROOT)(IS_ROOT ? 'permissions: fix' : 'permissions: fix — skipped: needs root to play another user', () => {
  it('never chmods through a dotenv symlink: a stand-in for /etc/shadow stays 0640 and the run is refused (exit 77)', async () => {
    const base = tempDir('sv-perm-');
    const shadow = writeSecretFile(join(base, 'shadow'), `root=${randomSecret('hash')}\n`, 0o640);
    chownSync(shadow, 0, attacker.gid);
    const link = join(base, 'app.env');
    symlinkSync(shadow, link);
    const { dir, config } = dotenvConfig(link, 'permissions: fix\n');
    const result = await runCli(['check', '-c', config], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(77);
    expect(statSync(shadow).mode & 0o7777).toBe(0o640);
    expect(logText(result.stderr)).toContain(`permissions: fix never changes a file through a symlink: ${link} links to ${shadow}`);
  });

  it("never chmods another user's folder, and does not trust it (exit 77, mode unchanged)", async () => {
    const base = tempDir('sv-perm-');
    const theirs = join(base, 'theirs');
    mkdirSync(theirs);
    chmodSync(theirs, 0o777);
    chownSync(theirs, attacker.uid, attacker.gid);
    const envFile = writeSecretFile(join(theirs, 'app.env'), `API_KEY=${randomSecret('api-key')}\n`);
    const { dir, config } = dotenvConfig(envFile, 'permissions: fix\n');
    const result = await runCli(['check', '-c', config], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(77);
    expect(statSync(theirs).mode & 0o7777).toBe(0o777);
    expect(logText(result.stderr)).toContain(`owned by uid ${attacker.uid}`);
  });

  it('still tightens a file and a folder secretvisor owns, logging the real path reached through a linked folder', async () => {
    const base = tempDir('sv-perm-');
    const real = join(base, 'real');
    mkdirSync(real);
    chmodSync(real, 0o770);
    const envFile = writeSecretFile(join(real, 'app.env'), `API_KEY=${randomSecret('api-key')}\n`, 0o644);
    symlinkSync(real, join(base, 'via'));
    const { dir, config } = dotenvConfig(join(base, 'via', 'app.env'), 'permissions: fix\n');
    const result = await runCli(['check', '-c', config], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(statSync(real).mode & 0o777).toBe(0o750);
    expect(logText(result.stderr)).toContain(`tightened ${envFile} to 0600 (permissions: fix)`);
    expect(logText(result.stderr)).toContain(`tightened ${real} to 0750 (permissions: fix)`);
  });
});

function renderProject(): { readonly dir: string; readonly config: string } {
  const dir = tempDir('sv-render-');
  writeSecretFile(join(dir, 'app.env'), `API_KEY=${randomSecret('api-key')}\n`);
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(config, "version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nfiles:\n  - path: key.txt\n    template: '{{secret.API_KEY}}'\n");
  return { dir, config };
}

describe.skipIf(!IS_ROOT)(IS_ROOT ? 'render --out DIR' : 'render --out DIR — skipped: needs root to play another user', () => {
  it('refuses a DIR that is a symlink another user planted (exit 78); nothing is written at its target', async () => {
    const { dir, config } = renderProject();
    const target = tempDir('sv-target-');
    const out = join(tempDir('sv-out-'), 'secrets');
    symlinkSync(target, out);
    const result = await runCli(['render', '-c', config, '--out', out], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain(`render: --out ${out} is a symlink`);
    expect(readdirSync(target)).toEqual([]);
  });

  it('refuses a DIR another user owns (exit 78); nothing is written into it', async () => {
    const { dir, config } = renderProject();
    const out = join(tempDir('sv-out-'), 'secrets');
    mkdirSync(out, { mode: 0o700 });
    chownSync(out, attacker.uid, attacker.gid);
    const result = await runCli(['render', '-c', config, '--out', out], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain(`is owned by uid ${attacker.uid}`);
    expect(readdirSync(out)).toEqual([]);
  });

  it('still writes into a DIR it makes', async () => {
    const { dir, config } = renderProject();
    const out = join(tempDir('sv-out-'), 'secrets');
    const result = await runCli(['render', '-c', config, '--out', out], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(out, 'key.txt'))).toBe(true);
  });
});

describe('the runtime base', () => {
  it('refuses a world-writable base without the sticky bit (TMPDIR=/x, 0777): exit 77 with the fix', async () => {
    const { dir, config } = renderProject();
    const base = join(tempDir('sv-base-'), 'x');
    mkdirSync(base);
    chmodSync(base, 0o777);
    const record = join(dir, 'ran');
    const result = await runCli(['run', '-c', config, '--once', '--', process.execPath, FIXTURES.printEnv, record], { cwd: dir, env: env({ TMPDIR: base }) });
    expect(result.code, result.stderr).toBe(77);
    const text = logText(result.stderr);
    expect(text).toContain(`the runtime base for file outputs is not safe from other users: folder ${base} has mode 0777`);
    expect(text).toContain('chmod +t');
    expect(readdirSync(base)).toEqual([]);
    expect(existsSync(record)).toBe(false);
  });

  it('accepts the same base once it is sticky', async () => {
    const { dir, config } = renderProject();
    const base = join(tempDir('sv-base-'), 'x');
    mkdirSync(base);
    chmodSync(base, 0o1777);
    const record = join(dir, 'ran');
    const result = await runCli(['run', '-c', config, '--once', '--', process.execPath, FIXTURES.printEnv, record], { cwd: dir, env: env({ TMPDIR: base }) });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(record)).toBe(true);
  });
});
