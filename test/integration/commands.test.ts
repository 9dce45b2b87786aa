import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { randomSecret } from '../helpers/secrets.js';
import { FIXTURES, makeProject } from '../helpers/project.js';

const password = randomSecret('pw');
const tricky = `${randomSecret('tricky')} with 'single' and "double" quotes #hash`;
const poolToken = randomSecret('pool');

const CONFIG = `
version: 1
sources:
  platform: { type: dotenv, path: platform.env }
  finance: { type: dotenv, path: finance.env }
scopes:
  global: [platform]
  services: { worker: [] }
  pools: { worker: { finance: [finance] } }
env:
  DATABASE_URL: "postgres://app:{{secret.DB_PASSWORD}}@db/app"
`;

function project(): string {
  return makeProject({
    'secretvisor.yaml': CONFIG,
    'platform.env': `DB_PASSWORD=${password}\nTRICKY='${tricky.replace(/'/g, '')}'\n`,
    'finance.env': `BANKING_TOKEN=${poolToken}\nDB_PASSWORD=${password}\n`,
  });
}

describe('check', () => {
  it('prints key names with source, scope and overrides — never values — and exits 0', async () => {
    const result = await runCli(['check', '--service', 'worker', '--pool', 'finance'], { cwd: project() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/BANKING_TOKEN\s+finance\s+pool\s+env/);
    expect(result.stdout).toMatch(/DB_PASSWORD\s+finance\s+pool\s+env\s+platform/);
    expect(result.stdout).toContain('env DATABASE_URL from template (DB_PASSWORD)');
    expect(result.stdout).toContain('for: service worker, pool finance');
  });

  it('without --service reads every source and resolves every service and pool', async () => {
    const result = await runCli(['check'], { cwd: project() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\(global\)\s+-\s+2\s+ok\s+platform/);
    expect(result.stdout).toMatch(/worker\s+-\s+2\s+ok\s+platform/);
    expect(result.stdout).toMatch(/worker\s+finance\s+3\s+ok\s+platform, finance/);
    expect(result.stdout).toContain('every service and pool resolves');
  });

  it('fails when any one pool does not resolve, naming it', async () => {
    const dir = makeProject({
      'secretvisor.yaml': CONFIG.replace('finance: { type: dotenv, path: finance.env }', 'finance: { type: dotenv, path: finance.env, required: [MISSING_KEY] }'),
      'platform.env': `DB_PASSWORD=${password}\n`,
      'finance.env': `BANKING_TOKEN=${poolToken}\n`,
    });
    const result = await runCli(['check'], { cwd: dir });
    expect(result.code).toBe(65);
    expect(result.stdout).toMatch(/worker\s+finance\s+-\s+FAILED/);
    expect(logText(result.stderr)).toContain('required key MISSING_KEY missing');
  });

  it('exits with the start-up error code when something is wrong', async () => {
    // Every source present, one unsafe: a missing one would exit 66 at once too.
    const dir = makeProject({
      'secretvisor.yaml': CONFIG,
      'platform.env': { content: `DB_PASSWORD=${password}\n`, mode: 0o644 },
      'finance.env': `BANKING_TOKEN=${randomSecret('banking')}\n`,
    });
    const result = await runCli(['check'], { cwd: dir });
    expect(result.code, result.stderr).toBe(77);
  });
});

describe('env', () => {
  it('masks values by default and lists only what secretvisor adds', async () => {
    const result = await runCli(['env', '--service', 'worker', '--pool', 'finance'], { cwd: project(), env: { PATH: process.env.PATH, INHERITED_THING: 'x' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('BANKING_TOKEN=[redacted]');
    expect(result.stdout).toContain('DATABASE_URL=[redacted]');
    expect(result.stdout).not.toContain('INHERITED_THING');
    expect(result.stdout).not.toContain('PATH=');
  });

  it('reveals values with --reveal, in a dotenv format dotenv reads back', async () => {
    const result = await runCli(['env', '--reveal'], { cwd: project(), allowSecretsOnStdout: true });
    expect(result.code, result.stderr).toBe(0);
    const parsed = parse(result.stdout);
    expect(parsed.DB_PASSWORD).toBe(password);
    expect(parsed.TRICKY).toBe(tricky.replace(/'/g, ''));
    expect(parsed.DATABASE_URL).toBe(`postgres://app:${password}@db/app`);
  });

  it.each([
    ['plain', 'abc'],
    ['spaces and a hash', 'a b # c'],
    ['a single quote', "it's"],
    ['a real newline', 'line1\nline2'],
    ['a quote and a literal backslash-n', "it's a \\n literal"],
    ['both quotes and a newline', `say "hi"\nit's`],
  ])('--format dotenv writes a value with %s so that dotenv reads it back exactly', async (_what, text) => {
    const value = `${randomSecret('q')} ${text}`;
    const dir = makeProject({ 'secretvisor.yaml': 'version: 1\nsources:\n  keys: { type: directory, path: keys }\n', 'keys/VALUE': `${value}\n` });
    const result = await runCli(['env', '--reveal'], { cwd: dir, allowSecretsOnStdout: true });
    expect(result.code, result.stderr).toBe(0);
    expect(parse(result.stdout).VALUE).toBe(value);
  });

  it('prints JSON with --format json', async () => {
    const result = await runCli(['env', '--reveal', '--format', 'json'], { cwd: project(), allowSecretsOnStdout: true });
    expect(JSON.parse(result.stdout)).toMatchObject({ DB_PASSWORD: password });
  });

  it('prints shell exports a shell can eval with --format shell', async () => {
    const dir = project();
    const shell = await runCli(['env', '--reveal', '--format', 'shell'], { cwd: dir, allowSecretsOnStdout: true });
    const out = join(dir, 'out.json');
    const script = `${shell.stdout}\nexec ${process.execPath} ${FIXTURES.printEnv} ${out}`;
    const run = await runCli(['run', '--once', '--', '/bin/sh', '-c', script], { cwd: dir });
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).TRICKY).toBe(tricky.replace(/'/g, ''));
  });
});

describe('schema, version and help', () => {
  it('prints the JSON Schema of the config, generated from the validating schema', async () => {
    const result = await runCli(['schema']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['version', 'sources', 'scopes', 'env', 'files', 'onChange', 'inherit', 'metrics']));
    expect(schema.additionalProperties).toBe(false);
  });

  it('prints the version', async () => {
    const result = await runCli(['--version']);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(result.stdout.trim()).toBe(`secretvisor ${pkg.version}`);
  });

  it('prints help listing every command', async () => {
    const result = await runCli(['--help']);
    for (const command of ['run', 'check', 'env', 'render', 'audit', 'status', 'schema']) expect(result.stdout).toContain(`secretvisor ${command}`);
  });
});

describe('zero-config mode', () => {
  it('loads ./.env when there is no config file', async () => {
    const dir = makeProject({ '.env': `ONLY_SECRET=${password}\n` });
    const result = await runCli(['run', '--once', '--', '/bin/sh', '-c', `test "$ONLY_SECRET" = "${password}"`], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
  });

  it('enforces permissions on ./.env like any source', async () => {
    const dir = makeProject({ '.env': { content: `ONLY_SECRET=${password}\n`, mode: 0o644 } });
    const result = await runCli(['run', '--once', '--', '/bin/true'], { cwd: dir });
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toContain(`chmod 0600 '${join(dir, '.env')}'`);
  });
});
