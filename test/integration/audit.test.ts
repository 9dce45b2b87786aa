import { chmodSync, chownSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, type CliResult } from '../helpers/cli.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { startAwsServer, type AwsServer } from '../servers/aws-server.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';

const DAY_S = 86_400;
const isRoot = process.getuid?.() === 0;

/** A platform laid out on disk: a global dotenv file, worker keys one per file, a pool file. */
interface Platform {
  readonly dir: string;
  readonly config: string;
  readonly globalEnv: string;
  readonly workerDir: string;
  readonly poolEnv: string;
}

function platform(extraConfig = ''): Platform {
  const dir = tempDir('sv-audit-');
  const secrets = join(dir, 'secrets');
  const workerDir = join(secrets, 'worker');
  mkdirSync(workerDir, { recursive: true, mode: 0o700 });
  chmodSync(secrets, 0o700);
  const globalEnv = writeSecretFile(join(secrets, 'global.env'), `DB_PASSWORD=${randomSecret('db-password')}\n`);
  writeSecretFile(join(workerDir, 'llm-api-key'), randomSecret('llm-key'));
  const poolEnv = writeSecretFile(join(secrets, 'finance.env'), `BANK_TOKEN=${randomSecret('bank-token')}\n`);
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(
    config,
    `version: 1
sources:
  global: { type: dotenv, path: secrets/global.env }
  worker-keys: { type: directory, path: secrets/worker, upcase: true }
  finance: { type: dotenv, path: secrets/finance.env }
${extraConfig}scopes:
  global: [global]
  services:
    frontend: []
    worker: [worker-keys]
  pools:
    worker:
      finance: [finance]
`,
  );
  return { dir, config, globalEnv, workerDir, poolEnv };
}

function audit(p: Platform, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(['audit', '-c', p.config, ...args], { cwd: p.dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', ...env }) });
}

interface JsonReport {
  readonly items: { source: string | null; kind: string; location: string; updatedAt: string | null; status: string }[];
  readonly findings: { kind: string; source: string | null; path: string | null; problem: string; fix: string; exitCode?: number }[];
  readonly summary: { exitCode: number; permission: number; age: number; unreadable: number; secrets: number; line: string };
}

async function auditJson(p: Platform, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ result: CliResult; report: JsonReport }> {
  const result = await audit(p, ['--format', 'json', ...args], env);
  return { result, report: JSON.parse(result.stdout) as JsonReport };
}

function makeOld(path: string, days: number): void {
  const then = Date.now() / 1000 - days * DAY_S;
  utimesSync(path, then, then);
}

describe('secretvisor audit: files', () => {
  it('exits 0 when all is well, listing every secret file with its age and a summary, and no value', async () => {
    const p = platform();
    const result = await audit(p);
    expect(result.code, result.stderr).toBe(0);
    for (const path of [p.globalEnv, join(p.workerDir, 'llm-api-key'), p.poolEnv]) expect(result.stdout).toContain(path);
    expect(result.stdout).toMatch(/^ok: 3 sources, 3 secrets checked; nothing needs attention$/m);
    expect(result.stdout).not.toContain('needs attention:');
  });

  it.each([
    ['a secret file others can read', (p: Platform) => chmodSync(p.globalEnv, 0o644), (p: Platform) => `chmod 0600 '${p.globalEnv}'`],
    ['a secret file its group can read', (p: Platform) => chmodSync(p.globalEnv, 0o640), (p: Platform) => `chmod 0600 '${p.globalEnv}'`],
    ['a key file of a folder source', (p: Platform) => chmodSync(join(p.workerDir, 'llm-api-key'), 0o604), (p: Platform) => `chmod 0600 '${join(p.workerDir, 'llm-api-key')}'`],
    ['a folder others can write to', (p: Platform) => chmodSync(p.workerDir, 0o777), (p: Platform) => `chmod go-w '${p.workerDir}'`],
  ])('exits 77 for %s, naming the command that fixes it', async (_what, spoil, fix) => {
    const p = platform();
    spoil(p);
    const result = await audit(p);
    expect(result.code).toBe(77);
    expect(result.stdout).toContain('[permission]');
    expect(result.stdout).toContain(`fix: ${fix(p)}`);
    expect(result.stdout).toMatch(/^needs attention: .*; 1 permission, 0 too old, 0 unreadable \(exit 77\)$/m);
  });

  it.skipIf(!isRoot)('exits 77 for a secret file owned by another user (needs root to chown)', async () => {
    const p = platform();
    chownSync(p.poolEnv, 65_534, 65_534);
    const result = await audit(p);
    expect(result.code).toBe(77);
    expect(result.stdout).toContain(`fix: chown 0 '${p.poolEnv}'`);
  });

  it('exits 77 for a key that links outside its folder', async () => {
    const p = platform();
    symlinkSync(p.globalEnv, join(p.workerDir, 'stolen'));
    const result = await audit(p);
    expect(result.code).toBe(77);
    expect(result.stdout).toContain('key stolen is a link to');
  });

  it("audits every source of the config, not only one service's: a pool-only file is checked", async () => {
    const p = platform('  unused: { type: dotenv, path: secrets/unused.env }\n');
    const unused = writeSecretFile(join(p.dir, 'secrets', 'unused.env'), `OLD=${randomSecret('unused')}\n`, 0o644);
    chmodSync(p.poolEnv, 0o644);
    const { result, report } = await auditJson(p);
    expect(result.code).toBe(77);
    expect(
      report.findings
        .filter((f) => f.kind === 'permission')
        .map((f) => f.path)
        .sort(),
    ).toEqual([p.poolEnv, unused].sort());
  });

  it('exits 1 when only rotation age needs attention, and 0 with a longer --max-age', async () => {
    const p = platform();
    makeOld(join(p.workerDir, 'llm-api-key'), 120);
    const result = await audit(p);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('[age] source worker-keys:');
    expect(result.stdout).toContain('(120d ago), longer ago than the maximum age 90d');
    expect(result.stdout).toMatch(/0 permission, 1 too old, 0 unreadable \(exit 1\)$/m);
    expect((await audit(p, ['--max-age', '180d'])).code).toBe(0);
  });

  it('--max-age takes the config units too', async () => {
    const p = platform();
    makeOld(p.globalEnv, 2);
    expect((await audit(p, ['--max-age', '36h'])).code).toBe(1);
    expect((await audit(p, ['--max-age', '72h'])).code).toBe(0);
  });

  it('exits 77 for stray .env files others can read in the config folder and the working folder; templates and private ones pass', async () => {
    const p = platform();
    const work = tempDir('sv-audit-cwd-');
    const nearConfig = writeSecretFile(join(p.dir, '.env.production'), `TOKEN=${randomSecret('stray')}\n`, 0o644);
    const inWorkDir = writeSecretFile(join(work, 'local.env'), `TOKEN=${randomSecret('stray')}\n`, 0o604);
    writeSecretFile(join(p.dir, '.env.example'), 'TOKEN=\n', 0o644);
    writeSecretFile(join(work, '.env'), `TOKEN=${randomSecret('private')}\n`, 0o600);
    const result = await runCli(['audit', '-c', p.config, '--format', 'json'], { cwd: work, env: baseEnv() });
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(result.code).toBe(77);
    const stray = report.findings.filter((f) => f.source === null);
    expect(stray.map((f) => f.path).sort()).toEqual([nearConfig, inWorkDir].sort());
    expect(
      report.items
        .filter((i) => i.kind === 'stray')
        .map((i) => i.location)
        .sort(),
    ).toEqual([join(work, '.env'), nearConfig, inWorkDir].sort());
  });

  it('in zero-config mode audits ./.env itself', async () => {
    const dir = tempDir('sv-audit-zero-');
    writeSecretFile(join(dir, '.env'), `TOKEN=${randomSecret('zero')}\n`, 0o644);
    const result = await runCli(['audit'], { cwd: dir, env: baseEnv() });
    expect(result.code).toBe(77);
    expect(result.stdout).toContain('config: (zero-config: ./.env)');
    expect(result.stdout).toContain(`fix: chmod 0600 '${join(dir, '.env')}'`);
  });

  it('exits 69 when a secret file is missing', async () => {
    const p = platform('  gone: { type: dotenv, path: secrets/gone.env }\n');
    const { result, report } = await auditJson(p);
    expect(result.code).toBe(69);
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unreadable', source: 'gone', exitCode: 69 })]);
  });

  it('--format json carries items, findings and the exit code', async () => {
    const p = platform();
    chmodSync(p.globalEnv, 0o644);
    makeOld(p.poolEnv, 100);
    const { result, report } = await auditJson(p);
    expect(result.code).toBe(77);
    expect(report.summary).toMatchObject({ exitCode: 77, permission: 1, age: 1, unreadable: 0, secrets: 3 });
    expect(report.items.find((i) => i.location === p.globalEnv)?.status).toBe('unsafe');
    expect(report.items.find((i) => i.location === p.poolEnv)?.status).toBe('too old');
  });

  it.each([
    [['--format', 'xml'], '--format xml is not one of table, json'],
    [['--max-age', '90'], '--max-age 90 is not a duration'],
    [['--service', 'worker'], "Unknown option '--service'"],
  ])('%j is a usage error (64)', async (args, message) => {
    const p = platform();
    const result = await audit(p, args);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(message);
  });
});

describe('secretvisor audit: remote sources', () => {
  const HOST_KEY_ID = randomSecret('AKIAAUDIT');
  const HOST_SECRET_KEY = randomSecret('audit-secret-key');
  const VAULT_TOKEN = randomSecret('vault-token');
  let aws: AwsServer;
  let vault: VaultServer;

  beforeAll(async () => {
    aws = await startAwsServer({ users: [{ name: 'auditor', accessKeyId: HOST_KEY_ID, secretAccessKey: HOST_SECRET_KEY, secrets: '*' }] });
    vault = await startVaultServer();
    vault.tokens.create({ id: VAULT_TOKEN });
  });

  afterAll(async () => {
    await aws.stop();
    await vault.stop();
  });

  it('judges an AWS secret by its LastChangedDate', async () => {
    aws.secrets.put('noxus/audit', { API_KEY: randomSecret('aws-api-key') });
    const p = platform(`  core: { type: aws-secrets-manager, secretId: noxus/audit, endpoint: "${aws.endpoint}" }\n`);
    const env = awsSdkEnv({ accessKeyId: HOST_KEY_ID, secretAccessKey: HOST_SECRET_KEY });
    const fresh = await auditJson(p, [], env);
    expect(fresh.result.code, fresh.result.stderr + fresh.result.stdout).toBe(0);
    const item = fresh.report.items.find((i) => i.source === 'core');
    expect(item?.updatedAt).not.toBeNull();
    const old = await auditJson(p, ['--max-age', '1ms'], env);
    expect(old.result.code).toBe(1);
    expect(old.report.findings.filter((f) => f.source === 'core')).toEqual([expect.objectContaining({ kind: 'age', path: null })]);
  });

  it('exits 69 when an AWS source cannot be reached', async () => {
    const p = platform('  core: { type: aws-secrets-manager, secretId: noxus/audit, endpoint: "http://127.0.0.1:9" }\nstartup: { timeout: 5s }\n');
    const { result, report } = await auditJson(p, [], awsSdkEnv({ accessKeyId: HOST_KEY_ID, secretAccessKey: HOST_SECRET_KEY }));
    expect(result.code).toBe(69);
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unreadable', source: 'core', exitCode: 69 })]);
    expect(report.findings[0]?.problem).toContain('ECONNREFUSED');
  });

  it('judges a Vault KV v2 secret by its metadata, and audits the token file', async () => {
    vault.secrets.putKv2('secret', 'noxus/audit', { API_KEY: randomSecret('vault-api-key') });
    const p = platform(`  core:\n    type: vault\n    address: ${vault.address}\n    path: secret/data/noxus/audit\n    auth: { method: token, tokenFile: vault-token }\n`);
    const tokenFile = writeSecretFile(join(p.dir, 'vault-token'), VAULT_TOKEN);
    const fresh = await auditJson(p);
    expect(fresh.result.code, fresh.result.stderr + fresh.result.stdout).toBe(0);
    expect(fresh.report.items.find((i) => i.source === 'core')?.updatedAt).not.toBeNull();
    expect((await auditJson(p, ['--max-age', '1ms'])).result.code).toBe(1);

    chmodSync(tokenFile, 0o644);
    const unsafe = await auditJson(p);
    expect(unsafe.result.code).toBe(77);
    expect(unsafe.report.findings).toEqual([expect.objectContaining({ kind: 'permission', source: 'core', path: tokenFile })]);
  });

  it.each([
    ['unset', {}],
    ['empty', { VAULT_TOKEN: '' }],
  ])('audits ~/.vault-token, the file the source reads, when VAULT_TOKEN is %s', async (_what, tokenEnv) => {
    const p = platform(`  core:\n    type: vault\n    address: ${vault.address}\n    path: secret/data/noxus/audit\n`);
    const home = join(p.dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    const tokenFile = writeSecretFile(join(home, '.vault-token'), VAULT_TOKEN, 0o644);
    const { result, report } = await auditJson(p, [], { HOME: home, ...tokenEnv });
    expect(result.code).toBe(77);
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'permission', source: 'core', path: tokenFile })]);
  });
});
