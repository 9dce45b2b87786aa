import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, baseEnv, runCli, startCli, type CliResult } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';
import { expectNoLeak, randomSecret, trackSecret } from '../helpers/secrets.js';
import { writeSecretFile } from '../helpers/tmp.js';

// `generate:` keys of file sources, through the real CLI: created once at
// 0600 with the right shape, never replaced, never printed or logged.

const NOBODY = 65534;
const SETPRIV = (process.env.PATH ?? '')
  .split(':')
  .map((dir) => join(dir, 'setpriv'))
  .find((path) => existsSync(path));
const IS_ROOT = process.getuid?.() === 0;
const ALPHABET = '!$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~';

const CONFIG = `version: 1
sources:
  app:
    type: dotenv
    path: app.env
    generate:
      SESSION_KEY: { bytes: 32, encoding: base64url }
      PIN: { length: 6, alphabet: "0123456789" }
      EXISTING: { bytes: 8, encoding: hex }
  keys:
    type: directory
    path: keys
    sanitize: true
    generate:
      api-token: { bytes: 16, encoding: hex }
      cookie: { bytes: 12, encoding: base64 }
`;

/** The dotenv lines of a file, as KEY → raw value. */
function dotenvLines(path: string): Map<string, string> {
  return new Map(
    readFileSync(path, 'utf8')
      .split(/\r?\n/)
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
}

/** Remembers every generated value on disk as a secret, then checks a run's output holds none of them. */
function expectValuesNotIn(result: CliResult, values: readonly string[]): void {
  for (const value of values) trackSecret(value);
  expectNoLeak(result.stdout, 'generate stdout');
  expectNoLeak(result.stderr, 'generate stderr');
}

function generate(dir: string, args: readonly string[] = []): Promise<CliResult> {
  return runCli(['generate', '-c', join(dir, 'secretvisor.yaml'), ...args], { cwd: dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }) });
}

describe('secretvisor generate', () => {
  it('appends the missing keys to a dotenv file without a trailing newline, keeping every byte, and creates one file per key in a folder', async () => {
    const existing = randomSecret('existing');
    const original = `# app settings\nEXISTING=${existing}\nQUOTED="a b # c"`;
    const dir = makeProject({ 'secretvisor.yaml': CONFIG, 'app.env': original, 'keys/cookie': randomSecret('cookie') });
    const before = readFileSync(join(dir, 'keys', 'cookie'), 'utf8');
    const result = await generate(dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`source app (${join(dir, 'app.env')}): created SESSION_KEY, PIN; present already: EXISTING`);
    expect(result.stdout).toContain(`source keys (${join(dir, 'keys')}): created api-token; present already: cookie`);
    expect(result.stdout).toContain('generated 3 keys');

    const text = readFileSync(join(dir, 'app.env'), 'utf8');
    expect(text.startsWith(`${original}\n`)).toBe(true);
    const lines = dotenvLines(join(dir, 'app.env'));
    expect(lines.get('EXISTING')).toBe(existing);
    expect(lines.get('SESSION_KEY')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(lines.get('PIN')).toMatch(/^\d{6}$/);
    expect(text.endsWith(`PIN=${lines.get('PIN')}\n`)).toBe(true);
    expect(statSync(join(dir, 'app.env')).mode & 0o777).toBe(0o600);
    const token = readFileSync(join(dir, 'keys', 'api-token'), 'utf8');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(statSync(join(dir, 'keys', 'api-token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'keys', 'cookie'), 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(readdirSync(join(dir, 'keys')).sort()).toEqual(['api-token', 'cookie']);
    expectValuesNotIn(result, [lines.get('SESSION_KEY') as string, token]);

    // A second run finds everything and changes nothing.
    const again = await generate(dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to generate: every key is present');
    expect(readFileSync(join(dir, 'app.env'), 'utf8')).toBe(text);
    expect(readFileSync(join(dir, 'keys', 'api-token'), 'utf8')).toBe(token);
  });

  it('creates a missing dotenv file and a missing folder, 0600 and 0700', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG });
    const result = await generate(dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('created SESSION_KEY, PIN, EXISTING');
    expect(statSync(join(dir, 'app.env')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    expect([...dotenvLines(join(dir, 'app.env')).keys()]).toEqual(['SESSION_KEY', 'PIN', 'EXISTING']);
    expectValuesNotIn(result, [...dotenvLines(join(dir, 'app.env')).values()]);
  });

  it('keeps CRLF line ends, and every character an alphabet may hold reads back as written', async () => {
    const config = `version: 1\nsources:\n  app: { type: dotenv, path: app.env, generate: { WIDE: { length: 300, alphabet: "${ALPHABET.replace(/\\/g, '\\\\')}" } } }\n`;
    const dir = makeProject({ 'secretvisor.yaml': config, 'app.env': `FIRST=${randomSecret('first')}\r\n` });
    const result = await generate(dir);
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(join(dir, 'app.env'), 'utf8');
    expect(text).toMatch(/^FIRST=[^\r\n]+\r\nWIDE=[^\r\n]{300}\r\n$/);
    const written = dotenvLines(join(dir, 'app.env')).get('WIDE') as string;
    expect([...written].every((char) => ALPHABET.includes(char))).toBe(true);
    const shown = await runCli(['env', '--reveal', '--format', 'json'], { cwd: dir, allowSecretsOnStdout: true });
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as Record<string, string>).WIDE).toBe(written);
    expectValuesNotIn(result, [written]);
  });

  it('two generates at once write each key once, and agree on its value', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG, 'app.env': `EXISTING=${randomSecret('existing')}\n` });
    const runs = await Promise.all([0, 1, 2, 3].map(() => generate(dir)));
    for (const result of runs) expect(result.code, result.stderr).toBe(0);
    const created = runs.flatMap((result) => [...result.stdout.matchAll(/created ([^;\n]+)/g)].flatMap((match) => (match[1] as string).split(', ')));
    expect(created.sort()).toEqual(['PIN', 'SESSION_KEY', 'api-token', 'cookie']);
    const text = readFileSync(join(dir, 'app.env'), 'utf8');
    expect(text.match(/^SESSION_KEY=/gm)).toHaveLength(1);
    expect(text.match(/^PIN=/gm)).toHaveLength(1);
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(readdirSync(join(dir, 'keys')).sort()).toEqual(['api-token', 'cookie']);
  });

  it('takes over a lock left by a process of this host that is gone', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG, 'app.env': '' });
    writeSecretFile(join(dir, '.app.env.secretvisor-lock'), `${hostname()} 4194304\n`);
    const result = await generate(dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('created SESSION_KEY, PIN, EXISTING');
    expect(existsSync(join(dir, '.app.env.secretvisor-lock'))).toBe(false);
  });

  it('with --service, only the sources that service reads', async () => {
    const config = `${CONFIG}scopes:\n  global: [app]\n  services:\n    worker: [keys]\n    web: []\n`;
    const dir = makeProject({ 'secretvisor.yaml': config });
    const web = await generate(dir, ['-s', 'web']);
    expect(web.code, web.stderr).toBe(0);
    expect(web.stdout).toContain('source app');
    expect(web.stdout).not.toContain('source keys');
    expect(existsSync(join(dir, 'keys'))).toBe(false);
    const none = await runCli(['generate'], { cwd: makeProject({ 'secretvisor.yaml': 'version: 1\nsources:\n  a: { type: dotenv, path: a.env }\n' }) });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain('nothing to generate: no source of the config has generate:');
  });

  it('refuses a dotenv file others can read under the strict policy, writing nothing', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG, 'app.env': { content: `EXISTING=${randomSecret('existing')}\n`, mode: 0o640 } });
    const before = readFileSync(join(dir, 'app.env'), 'utf8');
    const result = await generate(dir);
    expect(result.code, result.stderr).toBe(77);
    expect(logText(result.stderr)).toContain(`${join(dir, 'app.env')} has mode 0640`);
    expect(logText(result.stderr)).toContain(`chmod 0600 '${join(dir, 'app.env')}'`);
    expect(readFileSync(join(dir, 'app.env'), 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('leaves files that pass its own permission check and audit, which reports their age', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG.replace('version: 1', 'version: 1\npermissions: strict'), 'app.env': 'EXISTING=x\n' });
    expect((await generate(dir)).code).toBe(0);
    const check = await runCli(['check'], { cwd: dir });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SESSION_KEY\s+app/);
    expect(check.stdout).toMatch(/api_token\s+keys/);
    const audit = await runCli(['audit', '--format', 'json'], { cwd: dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }) });
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    const report = JSON.parse(audit.stdout) as { items: { source: string; updatedAt: string | null }[]; findings: unknown[] };
    expect(report.findings).toEqual([]);
    for (const source of ['app', 'keys']) {
      const item = report.items.find((entry) => entry.source === source);
      expect(Date.now() - Date.parse(item?.updatedAt ?? '')).toBeLessThan(10 * 60_000);
    }
  });

  it.skipIf(!IS_ROOT)('run as root (with permissions: warn, as strict refuses files of other users), keeps the owner of a rewritten file and gives a new one the owner of its folder', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG.replace('version: 1', 'version: 1\npermissions: warn'), 'app.env': 'EXISTING=x\n' });
    chownSync(join(dir, 'app.env'), NOBODY, NOBODY);
    chownSync(dir, NOBODY, NOBODY);
    const result = await generate(dir);
    expect(result.code, result.stderr).toBe(0);
    for (const path of [join(dir, 'app.env'), join(dir, 'keys'), join(dir, 'keys', 'api-token')]) {
      expect([statSync(path).uid, statSync(path).gid], path).toEqual([NOBODY, NOBODY]);
    }
  });

  it('a key generated into one source is still generated when another source has it; scopes decide which the child gets', async () => {
    const service = randomSecret('service-session');
    const config = `version: 1
sources:
  generated: { type: dotenv, path: generated.env, generate: { SESSION_KEY: { bytes: 32 } } }
  worker: { type: dotenv, path: worker.env }
scopes:
  global: [generated]
  services:
    worker: [worker]
`;
    const dir = makeProject({ 'secretvisor.yaml': config, 'worker.env': `SESSION_KEY=${service}\n` });
    const result = await generate(dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('created SESSION_KEY');
    const check = await runCli(['check', '-s', 'worker'], { cwd: dir });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SESSION_KEY\s+worker\s+service\s+env\s+generated/);
    const shown = await runCli(['env', '-s', 'worker', '--reveal', '--format', 'json'], { cwd: dir, allowSecretsOnStdout: true });
    expect((JSON.parse(shown.stdout) as Record<string, string>).SESSION_KEY).toBe(service);
  });
});

describe('secretvisor run with generate:', () => {
  it('creates the missing keys before the first read, and the child gets what was written', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG, 'app.env': `EXISTING=${randomSecret('existing')}\n` });
    const out = join(dir, 'seen');
    const cli = startCli(['run', '--once', '--', '/bin/sh', '-c', `printf '%s %s' "$SESSION_KEY" "$api_token" > '${out}'`], {
      cwd: dir,
      env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }),
    });
    const result = await cli.exited();
    expect(result.code, result.stderr).toBe(0);
    const session = dotenvLines(join(dir, 'app.env')).get('SESSION_KEY') as string;
    const token = readFileSync(join(dir, 'keys', 'api-token'), 'utf8');
    expect(readFileSync(out, 'utf8')).toBe(`${session} ${token}`);
    expect(logText(result.stderr)).toContain(`source "app": generated SESSION_KEY, PIN in ${join(dir, 'app.env')}`);
    expectValuesNotIn(result, [session, token]);
  });
});

describe.skipIf(!IS_ROOT || SETPRIV === undefined)('a folder secretvisor may not write in (run as another user)', () => {
  it.each([
    ['a dotenv source', 'app.env', `source "app": cannot create SESSION_KEY, PIN, EXISTING in folder {dir}: permission denied`],
    ['a directory source', 'keys', `source "keys": cannot create api-token, cookie in folder {dir}/keys: permission denied`],
  ])('%s: exit 77 naming the folder and the fix, nothing changed', async (_name, entry, message) => {
    const config = CONFIG.replace(entry === 'keys' ? /  app:[^]*?(?=  keys:)/ : /  keys:[^]*$/, '');
    const dir = makeProject({ 'secretvisor.yaml': config, 'app.env': '# empty\n', 'keys/.keep': '' });
    for (const path of [join(dir, 'app.env'), join(dir, 'keys', '.keep'), join(dir, 'secretvisor.yaml'), join(dir, 'keys'), dir]) chownSync(path, NOBODY, NOBODY);
    chmodSync(join(dir, 'keys'), 0o500);
    chmodSync(dir, 0o500);
    const child = spawn(SETPRIV as string, [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI, 'generate', '-c', join(dir, 'secretvisor.yaml')], {
      cwd: '/',
      env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }),
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    chmodSync(dir, 0o700);
    chmodSync(join(dir, 'keys'), 0o700);
    expect(code, stderr).toBe(77);
    const text = logText(stderr);
    expect(text).toContain(message.replace('{dir}', dir));
    expect(text).toContain('nothing was changed');
    expect(text).toContain(`owner uid ${NOBODY}`);
    expect(text).toContain('run secretvisor generate as the folder');
    expect(readFileSync(join(dir, 'app.env'), 'utf8')).toBe('# empty\n');
    expect(readdirSync(dir).filter((name) => name.startsWith('.secretvisor') || name.includes('secretvisor-lock'))).toEqual([]);
    expect(readdirSync(join(dir, 'keys'))).toEqual(['.keep']);
  });
});

const UNSHARE = (process.env.PATH ?? '')
  .split(':')
  .map((dir) => join(dir, 'unshare'))
  .find((path) => existsSync(path));

describe.skipIf(!IS_ROOT || UNSHARE === undefined)('a folder on a read-only file system (a Kubernetes Secret mount)', () => {
  it('exit 77 saying so, with the fix, nothing changed', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG.replace(/  app:[^]*?(?=  keys:)/, ''), 'keys/cookie': 'y' });
    const keys = join(dir, 'keys');
    const script = `mount --bind '${keys}' '${keys}' && mount -o remount,ro,bind '${keys}' '${keys}' && exec '${process.execPath}' '${CLI}' generate -c '${join(dir, 'secretvisor.yaml')}'`;
    const child = spawn(UNSHARE as string, ['-m', '/bin/sh', '-c', script], { cwd: '/', env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }) });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(77);
    const text = logText(stderr);
    expect(text).toContain(`source "keys": cannot create api-token in folder ${keys}: it is on a read-only file system`);
    expect(text).toContain('nothing was changed');
    expect(text).toContain('generate the keys where the source is written');
    expect(readdirSync(keys)).toEqual(['cookie']);
  });
});

describe.skipIf(!IS_ROOT || SETPRIV === undefined)('a read-only folder whose keys are all present', () => {
  it('is fine: generate writes nothing, not even a lock, and exits 0', async () => {
    const dir = makeProject({ 'secretvisor.yaml': CONFIG, 'app.env': 'SESSION_KEY=a\nPIN=1\nEXISTING=b\n', 'keys/api-token': 'x', 'keys/cookie': 'y' });
    for (const path of [join(dir, 'app.env'), join(dir, 'keys', 'api-token'), join(dir, 'keys', 'cookie'), join(dir, 'secretvisor.yaml'), join(dir, 'keys'), dir]) chownSync(path, NOBODY, NOBODY);
    chmodSync(join(dir, 'keys'), 0o500);
    chmodSync(dir, 0o500);
    const child = spawn(SETPRIV as string, [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI, 'generate', '-c', join(dir, 'secretvisor.yaml')], {
      cwd: '/',
      env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }),
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    chmodSync(dir, 0o700);
    chmodSync(join(dir, 'keys'), 0o700);
    expect(code, output).toBe(0);
    expect(output).toContain('nothing to generate: every key is present');
  });
});

describe('bad generate: settings are refused with the path and the valid choices', () => {
  it.each([
    ['an unknown encoding', '{ K: { bytes: 32, encoding: base32 } }', 'sources.app.generate.K.encoding: expected one of "hex", "base64", "base64url", got "base32"'],
    ['bytes and alphabet together', '{ K: { bytes: 32, alphabet: "ab" } }', 'sources.app.generate.K: give bytes (with an optional encoding: hex, base64, base64url), or length with alphabet'],
    ['length without alphabet', '{ K: { length: 8 } }', 'sources.app.generate.K: give bytes'],
    ['a repeated alphabet character', '{ K: { length: 8, alphabet: "0120" } }', 'sources.app.generate.K.alphabet: "0" is listed more than once'],
    ['a quote in the alphabet', `{ K: { length: 8, alphabet: "ab'" } }`, 'sources.app.generate.K.alphabet: expected printable ASCII characters without space, quotes'],
    ['zero bytes', '{ K: { bytes: 0 } }', 'sources.app.generate.K.bytes'],
    ['a key that cannot be a file name', '{ ../K: { bytes: 8 } }', 'sources.app.generate.../K: Invalid key in record'],
  ])('%s', async (_name, generateText, message) => {
    const dir = makeProject({ 'secretvisor.yaml': `version: 1\nsources:\n  app: { type: dotenv, path: app.env, generate: ${generateText} }\n` });
    const result = await runCli(['generate'], { cwd: dir });
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain(message);
    expect(existsSync(join(dir, 'app.env'))).toBe(false);
  });

  it('secretvisor schema describes generate: with its encodings', async () => {
    const result = await runCli(['schema']);
    expect(result.code, result.stderr).toBe(0);
    const schema = JSON.stringify(JSON.parse(result.stdout));
    expect(schema).toContain('"generate"');
    expect(schema).toContain('["hex","base64","base64url"]');
  });

  it('generate: on a remote source is an unknown key', async () => {
    const dir = makeProject({ 'secretvisor.yaml': 'version: 1\nsources:\n  v: { type: vault, address: "http://127.0.0.1:1", path: secret/data/x, generate: { K: { bytes: 8 } } }\n' });
    const result = await runCli(['generate'], { cwd: dir });
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain('unknown key "generate" at sources.v');
  });
});
