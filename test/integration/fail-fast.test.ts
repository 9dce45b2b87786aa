import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES, readRecords, waitForRecords } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';
import { startAwsServer, type AwsServer } from '../servers/aws-server.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';

// Answers that waiting does not change end start-up at once (77 denied, 66
// not found), naming the source, whatever startup.timeout says; outages are
// still retried (faults-vault.test.ts, faults-aws.test.ts). While running, a
// permanent failure keeps the last good secrets and is logged as permanent.

// Far longer than any bound below: an exit within the bound did not wait for it.
const LONG_STARTUP = 'startup: { timeout: 60s }\n';
const AT_ONCE_MS = 10_000;
const KEY_ID = randomSecret('AKIAFAST');
const SECRET_KEY = randomSecret('fast-secret-key');

let vault: VaultServer;
let aws: AwsServer;

beforeAll(async () => {
  [vault, aws] = await Promise.all([startVaultServer(), startAwsServer({ users: [{ name: 'host', accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, secrets: '*' }] })]);
});

afterEach(async () => {
  vault.faults.clear();
  aws.faults.clear();
});

afterAll(async () => {
  await Promise.all([vault.stop(), aws.stop()]);
});

let counter = 0;

interface Project {
  readonly dir: string;
  readonly config: string;
  readonly records: string;
  readonly env: NodeJS.ProcessEnv;
}

function project(source: string, env: NodeJS.ProcessEnv, files: Record<string, string> = {}): Project {
  const dir = tempDir('sv-fail-fast-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(config, `version: 1\nsources:\n  core: ${source}\nonChange: { debounce: 50ms, stopTimeout: 2s }\n${LONG_STARTUP}`);
  for (const [name, content] of Object.entries(files)) writeSecretFile(join(dir, name), content);
  const records = join(dir, 'records.jsonl');
  return { dir, config, records, env: baseEnv({ ...env, SECRETVISOR_LOG_FORMAT: 'json', RECORD_FILE: records, RECORD_KEYS: 'VALUE' }) };
}

function vaultProject(path: string, auth = '', env: NodeJS.ProcessEnv = { VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }) }, files = {}): Project {
  return project(`{ type: vault, address: "${vault.address}", path: ${path}, refresh: 200ms${auth} }`, env, files);
}

function awsProject(secretId: string, extra = ''): Project {
  return project(
    `{ type: aws-secrets-manager, region: eu-central-1, endpoint: "${aws.endpoint}", secretId: ${secretId}, refresh: 200ms${extra} }`,
    awsSdkEnv({ accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY }),
  );
}

async function start(p: Project): Promise<{ code: number | null; text: string; elapsedMs: number; stderr: string }> {
  const started = Date.now();
  const result = await runCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env, timeoutMs: 30_000 });
  return { code: result.code, text: logText(result.stderr), elapsedMs: Date.now() - started, stderr: result.stderr };
}

describe('a permanent answer at start-up exits at once with its code and the source, not after startup.timeout', () => {
  it('Vault 403 permission denied (the policy): exit 77', async () => {
    const path = `fast/denied-${++counter}`;
    vault.secrets.putKv2('secret', path, { VALUE: randomSecret('v') });
    vault.faults.status = 403;
    vault.faults.paths = ['secret/'];
    const result = await start(vaultProject(`secret/data/${path}`));
    expect(result.code, result.stderr).toBe(77);
    expect(result.elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(result.text).toContain(`vault source "core": read secret/data/${path}`);
    expect(result.text).toContain('403');
    expect(result.text).toContain("check that the token's policy allows this path");
    expect(result.stderr).not.toContain('not reachable yet');
  });

  it('Vault 404 (a path that holds no secret): exit 66', async () => {
    const result = await start(vaultProject(`secret/data/fast/missing-${++counter}`));
    expect(result.code, result.stderr).toBe(66);
    expect(result.elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(result.text).toContain('vault source "core"');
    expect(result.text).toContain('404');
    expect(result.stderr).not.toContain('not reachable yet');
  });

  it('Vault approle login with an invalid secret-id: exit 77', async () => {
    const roleId = randomSecret('role-id');
    vault.tokens.addAppRole({ roleId, secretId: randomSecret('secret-id'), tokens: [randomSecret('approle-token')] });
    const p = vaultProject(
      `secret/data/fast/approle-${++counter}`,
      ', auth: { method: approle, roleIdFile: role-id, secretIdFile: secret-id }',
      {},
      {
        'role-id': roleId,
        'secret-id': randomSecret('wrong-secret-id'),
      },
    );
    const result = await start(p);
    expect(result.code, result.stderr).toBe(77);
    expect(result.elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(result.text).toContain('vault source "core": Vault refused the approle login at auth/approle/login: 400 invalid role or secret ID');
    expect(result.stderr).not.toContain('not reachable yet');
  });

  it('AWS AccessDeniedException: exit 77', async () => {
    const secretId = `noxus/fast-denied-${++counter}`;
    aws.secrets.put(secretId, { VALUE: randomSecret('v') });
    aws.faults.inject({ kind: 'accessDenied' });
    const result = await start(awsProject(secretId));
    expect(result.code, result.stderr).toBe(77);
    expect(result.elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(result.text).toContain('aws-secrets-manager source "core"');
    expect(result.text).toContain('AccessDeniedException');
    expect(result.stderr).not.toContain(SECRET_KEY);
  });

  it('AWS ResourceNotFoundException (a typo in secretId): exit 66', async () => {
    const result = await start(awsProject(`noxus/fast-typo-${++counter}`));
    expect(result.code, result.stderr).toBe(66);
    expect(result.elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(result.text).toContain('aws-secrets-manager source "core"');
    expect(result.text).toContain('ResourceNotFoundException');
  });

  it('an outage is still waited for: a sealed Vault that is unsealed within startup.timeout starts the child', async () => {
    const path = `fast/sealed-${++counter}`;
    vault.secrets.putKv2('secret', path, { VALUE: randomSecret('v') });
    vault.faults.sealed = true;
    const p = vaultProject(`secret/data/${path}`);
    const cli = startCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    await cli.waitForStderr('not reachable yet');
    vault.faults.clear();
    await waitForRecords(p.records, (lines) => lines.length === 1, 'the child to start');
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });
});

describe('a permanent failure while running keeps the last good secrets and is logged as permanent', () => {
  it.each<[string, (path: string) => void, string]>([
    ['Vault 403', () => ((vault.faults.status = 403), (vault.faults.paths = ['secret/'])), 'failed permanently (denied)'],
    ['Vault 404 (the secret was deleted)', (path) => vault.secrets.delete('secret', path), 'failed permanently (not-found)'],
  ])('%s', async (_name, breakIt, logged) => {
    const path = `fast/running-${++counter}`;
    const first = randomSecret('first');
    vault.secrets.putKv2('secret', path, { VALUE: first });
    const p = vaultProject(`secret/data/${path}`);
    const cli = startCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    await waitForRecords(p.records, (lines) => lines.length === 1, 'the child to start');
    await cli.waitForStderr('watching sources for changes');
    breakIt(path);
    // Refreshes (every 200 ms) keep failing the same way; each is logged as permanent, none as a retry.
    await cli.waitFor((c) => logText(c.stderr).split(logged).length > 2, 'two permanent failures');
    expect(logText(cli.stderr)).toContain('keeping its last good secrets');
    expect(readRecords(p.records).map((line) => [line.event, line.values.VALUE])).toEqual([['start', first]]);
    const permanent = cli.stderr
      .split('\n')
      .filter((line) => line.includes('failed permanently'))
      .map((line) => JSON.parse(line) as { level: number; permanent: boolean; source: string });
    expect(permanent.every((line) => line.permanent && line.source === 'core' && line.level === 50)).toBe(true);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });
});
