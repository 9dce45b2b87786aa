import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { FIXTURES, readRecords, waitForRecords } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';
import { makeTestCertificate } from '../servers/vault/tls.js';

// secretvisor run/check against the test Vault, through the real CLI: every
// auth method, KV v1/v2, dynamic secrets, outages, re-auth, revocation, and
// no token or value in the child's environment or in any output.

let vault: VaultServer;

beforeAll(async () => {
  vault = await startVaultServer({ namespaces: ['platform'] });
});

afterEach(async () => {
  vault.faults.clear();
});

afterAll(async () => {
  await vault.stop();
});

interface Workspace {
  readonly dir: string;
  readonly config: string;
  readonly records: string;
}

let pathCounter = 0;
/** A fresh secret path per test, so tests sharing the server never see each other's data. */
function uniquePath(prefix: string): string {
  pathCounter += 1;
  return `${prefix}-${pathCounter}`;
}

/** A folder with `secretvisor.yaml`: one `core` source with the given settings, fast debounce and start-up timeout. */
function workspace(source: string, extra = ''): Workspace {
  const dir = tempDir('sv-vault-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(
    config,
    `version: 1\nsources:\n  core:\n    type: vault\n    address: ${vault.address}\n${source.replace(/^\n/, '')}\n${extra}onChange:\n  debounce: 50ms\n  stopTimeout: 2s\nstartup:\n  timeout: 3s\n`,
  );
  return { dir, config, records: join(dir, 'records.jsonl') };
}

/** secretvisor's environment: debug JSON logs (the most output to leak into), what the record-env child records. */
function cliEnv(ws: Workspace, keys: readonly string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return baseEnv({
    SECRETVISOR_LOG_FORMAT: 'json',
    SECRETVISOR_LOG_LEVEL: 'debug',
    RECORD_FILE: ws.records,
    RECORD_KEYS: keys.join(','),
    ...extra,
  });
}

function start(ws: Workspace, env: NodeJS.ProcessEnv): RunningCli {
  return startCli(['run', '-c', ws.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: ws.dir, env });
}

function starts(ws: Workspace): number {
  return readRecords(ws.records).filter((record) => record.event === 'start').length;
}

function startValues(ws: Workspace): Record<string, string | null>[] {
  return readRecords(ws.records)
    .filter((record) => record.event === 'start')
    .map((record) => ({ ...record.values }));
}

/** Waits until the child has started `count` times and the last one is ready (its signal handlers installed). */
async function waitForStarts(cli: RunningCli, ws: Workspace, count: number, what = `child start number ${count}`): Promise<void> {
  await waitForRecords(ws.records, () => starts(ws) >= count, what);
  await cli.waitForReadyChildren(count, `${what} to be ready`);
}

/** Resolves once the server has answered `count` more requests matching the filter than now. */
async function waitForRequests(cli: RunningCli, filter: Parameters<VaultServer['requestLog']['count']>[0], count: number, what: string): Promise<void> {
  const target = vault.requestLog.count(filter) + count;
  await cli.waitFor(() => vault.requestLog.count(filter) >= target, what);
}

async function stop(cli: RunningCli): Promise<number | null> {
  cli.kill('SIGTERM');
  return (await cli.exited()).code;
}

describe('secretvisor with Vault: auth methods', () => {
  it('check reads KV v2 with a token from VAULT_TOKEN and prints names, never values', async () => {
    const path = uniquePath('app');
    const token = vault.tokens.create({ id: randomSecret('token') });
    vault.secrets.putKv2('secret', path, { DB_PASSWORD: randomSecret('db-password'), API_KEY: randomSecret('api-key') });
    const ws = workspace(`    path: secret/data/${path}`);
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/API_KEY\s+core/);
    expect(result.stdout).toMatch(/DB_PASSWORD\s+core/);
  });

  it("never passes VAULT_TOKEN (or the token's value) to the child", async () => {
    const path = uniquePath('app');
    const token = vault.tokens.create({ id: randomSecret('token') });
    const password = randomSecret('db-password');
    vault.secrets.putKv2('secret', path, { DB_PASSWORD: password });
    const ws = workspace(`    path: secret/data/${path}`);
    const envFile = join(ws.dir, 'child-env.json');
    const result = await runCli(['run', '-c', ws.config, '--', process.execPath, FIXTURES.printEnv, envFile], {
      cwd: ws.dir,
      env: cliEnv(ws, [], { VAULT_TOKEN: token, VAULT_ADDR: vault.address }),
    });
    expect(result.code, result.stderr).toBe(0);
    const childEnv = JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>;
    expect(childEnv.DB_PASSWORD).toBe(password);
    expect(childEnv).not.toHaveProperty('VAULT_TOKEN');
    expect(Object.values(childEnv).join('\n')).not.toContain(token);
  });

  it('check trusts an HTTPS Vault through VAULT_CACERT, with the address from VAULT_ADDR', async () => {
    const dir = tempDir('sv-vault-tls-');
    const certificate = makeTestCertificate(dir);
    const secure = await startVaultServer({ tls: certificate });
    try {
      const token = secure.tokens.create({ id: randomSecret('token') });
      secure.secrets.putKv2('secret', 'app', { API_KEY: randomSecret('api-key') });
      const config = join(dir, 'secretvisor.yaml');
      writeFileSync(config, 'version: 1\nsources:\n  core:\n    type: vault\n    path: secret/data/app\n');
      const env = baseEnv({ VAULT_ADDR: secure.address, VAULT_CACERT: certificate.caFile, VAULT_TOKEN: token, SECRETVISOR_LOG_FORMAT: 'json' });
      const result = await runCli(['check', '-c', config], { cwd: dir, env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/API_KEY\s+core/);
    } finally {
      await secure.stop();
    }
  });

  it('a token from tokenFile', async () => {
    const path = uniquePath('app');
    const value = randomSecret('value');
    vault.secrets.putKv2('secret', path, { VALUE: value });
    const ws = workspace(`    path: secret/data/${path}\n    auth:\n      method: token\n      tokenFile: ./token`);
    writeSecretFile(join(ws.dir, 'token'), `${vault.tokens.create({ id: randomSecret('token') })}\n`);
    const cli = start(ws, cliEnv(ws, ['VALUE']));
    await waitForStarts(cli, ws, 1);
    expect(startValues(ws)).toEqual([{ VALUE: value }]);
    expect(await stop(cli)).toBe(0);
  });

  it('approle with roleIdFile and secretIdFile', async () => {
    const path = uniquePath('app');
    const value = randomSecret('value');
    const roleId = randomSecret('role-id');
    const secretId = randomSecret('secret-id');
    vault.tokens.addAppRole({ roleId, secretId, tokens: [randomSecret('approle-token')] });
    vault.secrets.putKv2('secret', path, { VALUE: value });
    const ws = workspace(`    path: secret/data/${path}\n    auth:\n      method: approle\n      roleIdFile: role-id\n      secretIdFile: secret-id`);
    writeSecretFile(join(ws.dir, 'role-id'), `${roleId}\n`);
    writeSecretFile(join(ws.dir, 'secret-id'), `${secretId}\n`);
    const cli = start(ws, cliEnv(ws, ['VALUE', 'VAULT_TOKEN']));
    await waitForStarts(cli, ws, 1);
    expect(startValues(ws)).toEqual([{ VALUE: value, VAULT_TOKEN: null }]);
    expect(await stop(cli)).toBe(0);
  });

  it('kubernetes with a jwtFile, in a namespace', async () => {
    const path = uniquePath('app');
    const value = randomSecret('value');
    const jwt = randomSecret('jwt');
    vault.tokens.addKubernetesRole({ role: 'worker', jwt, namespace: 'platform', tokens: [randomSecret('k8s-token')] });
    vault.secrets.putKv2('secret', path, { VALUE: value }, 'platform');
    const ws = workspace(`    namespace: platform\n    path: secret/data/${path}\n    auth:\n      method: kubernetes\n      role: worker\n      jwtFile: jwt`);
    writeSecretFile(join(ws.dir, 'jwt'), jwt);
    const cli = start(ws, cliEnv(ws, ['VALUE']));
    await waitForStarts(cli, ws, 1);
    expect(startValues(ws)).toEqual([{ VALUE: value }]);
    expect(await stop(cli)).toBe(0);
  });

  it('refuses a secret-id file others can read: exit 77 naming the file', async () => {
    const ws = workspace(`    path: secret/data/x\n    auth:\n      method: approle\n      roleId: app\n      secretIdFile: secret-id`);
    writeSecretFile(join(ws.dir, 'secret-id'), randomSecret('secret-id'), 0o644);
    const result = await runCli(['run', '-c', ws.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: ws.dir, env: cliEnv(ws, []) });
    expect(result.code).toBe(77);
    expect(result.stderr).toContain(join(ws.dir, 'secret-id'));
  });
});

describe('secretvisor with Vault: changes', () => {
  it.each([
    ['KV v2', 'secret', (path: string, data: Record<string, string>) => vault.secrets.putKv2('secret', path, data)],
    ['KV v1', 'kv', (path: string, data: Record<string, string>) => vault.secrets.putKv1('kv', path, data)],
  ])('%s: a changed value restarts the child once; unchanged refreshes never do', async (_kind, mount, put) => {
    const path = uniquePath('app');
    const before = randomSecret('before');
    const after = randomSecret('after');
    put(path, { VALUE: before, OTHER: 'same' });
    const apiPath = mount === 'secret' ? `secret/data/${path}` : `kv/${path}`;
    const ws = workspace(`    path: ${apiPath}\n    refresh: 200ms`);
    const cli = start(ws, cliEnv(ws, ['VALUE'], { VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }) }));
    await waitForStarts(cli, ws, 1);
    await waitForRequests(cli, { path: apiPath, status: 200 }, 5, 'five unchanged refreshes');
    expect(starts(ws)).toBe(1);
    put(path, { VALUE: after, OTHER: 'same' });
    await waitForStarts(cli, ws, 2, 'the restart');
    await waitForRequests(cli, { path: apiPath, status: 200 }, 5, 'five more refreshes');
    expect(startValues(ws)).toEqual([{ VALUE: before }, { VALUE: after }]);
    expect(await stop(cli)).toBe(0);
  });
});

describe('secretvisor with Vault: failures', () => {
  it.each([
    ['sealed', () => (vault.faults.sealed = true), { status: 503 }],
    ['a 500', () => (vault.faults.status = 500), { status: 500 }],
    ['a timeout', () => (vault.faults.latencyMs = 1_000), {}],
  ])('an outage during run (%s) keeps the child, and the next good read applies', async (_name, inject, failed) => {
    const path = uniquePath('app');
    const before = randomSecret('before');
    const after = randomSecret('after');
    vault.secrets.putKv2('secret', path, { VALUE: before });
    const ws = workspace(`    path: secret/data/${path}\n    refresh: 200ms\n    timeout: 300ms`);
    const cli = start(ws, cliEnv(ws, ['VALUE'], { VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }) }));
    await waitForStarts(cli, ws, 1);
    inject();
    await waitForRequests(cli, { path: `secret/data/${path}`, ...failed }, 2, 'two failed reads');
    await cli.waitForStderr('keeping its last good secrets');
    vault.secrets.putKv2('secret', path, { VALUE: after });
    await waitForRequests(cli, { path: `secret/data/${path}`, ...failed }, 1, 'one more failed read');
    expect(starts(ws)).toBe(1);
    vault.faults.clear();
    await waitForStarts(cli, ws, 2, 'the restart after recovery');
    expect(startValues(ws)).toEqual([{ VALUE: before }, { VALUE: after }]);
    expect(await stop(cli)).toBe(0);
  });

  it('an unreachable Vault at start exits 69 within startup.timeout, naming the source', async () => {
    const stopped = await startVaultServer();
    await stopped.stop();
    const ws = workspace(`    path: secret/data/app`);
    writeFileSync(ws.config, readFileSync(ws.config, 'utf8').replace(vault.address, stopped.address));
    const started = Date.now();
    const result = await runCli(['run', '-c', ws.config, '--', process.execPath, FIXTURES.recordEnv], {
      cwd: ws.dir,
      env: cliEnv(ws, [], { VAULT_TOKEN: randomSecret('token') }),
    });
    expect(result.code).toBe(69);
    expect(Date.now() - started).toBeLessThan(3_000 + 3_000);
    const last = JSON.parse(result.stderr.trim().split('\n').at(-1) as string) as { msg: string; exitCode: number };
    expect(last.msg).toContain('source "core" could not be reached at start-up');
    expect(last.msg).toContain('ECONNREFUSED');
    expect(readRecords(ws.records)).toEqual([]);
  });
});

describe('secretvisor with Vault: leases and tokens', () => {
  it('renews a renewable database lease without restarting the child', async () => {
    const role = uniquePath('renewable');
    vault.secrets.addDatabaseRole({ role, ttl: 2, credentials: () => ({ username: randomSecret('user'), password: randomSecret('pw') }) });
    const ws = workspace(`    path: database/creds/${role}`);
    const cli = start(ws, cliEnv(ws, ['username', 'password'], { VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }) }));
    await waitForStarts(cli, ws, 1);
    await waitForRequests(cli, { path: 'sys/leases/renew', status: 200 }, 2, 'two renewals');
    expect(starts(ws)).toBe(1);
    expect(vault.requestLog.count({ path: `database/creds/${role}` })).toBe(1);
    expect(await stop(cli)).toBe(0);
  });

  it('re-issues a non-renewable lease before it expires: one restart with the new credentials', async () => {
    const role = uniquePath('fixed');
    vault.secrets.addDatabaseRole({ role, ttl: 3, renewable: false, credentials: () => ({ username: randomSecret('user'), password: randomSecret('pw') }) });
    const ws = workspace(`    path: database/creds/${role}`);
    const cli = start(ws, cliEnv(ws, ['password'], { VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }) }));
    await waitForStarts(cli, ws, 1);
    await waitForStarts(cli, ws, 2, 'the restart with re-issued credentials');
    expect(starts(ws)).toBe(2);
    const [first, second] = startValues(ws);
    const leases = vault.secrets.leases().filter((lease) => lease.role === role);
    expect(leases).toHaveLength(2);
    expect(leases[1]?.issuedAt).toBeLessThan(leases[0]?.expiresAt as number);
    expect([first?.password, second?.password]).toEqual([leases[0]?.data.password, leases[1]?.data.password]);
    expect(await stop(cli)).toBe(0);
  });

  it('logs in again before its token expires, and after Vault revokes it, without restarting the child', async () => {
    const path = uniquePath('app');
    const roleId = randomSecret('role-id');
    vault.tokens.addAppRole({ roleId, tokenTtl: 2, renewable: false, tokens: Array.from({ length: 10 }, () => randomSecret('approle-token')) });
    vault.secrets.putKv2('secret', path, { VALUE: randomSecret('value') });
    const ws = workspace(`    path: secret/data/${path}\n    refresh: 200ms\n    auth:\n      method: approle\n      roleId: ${roleId}`);
    const cli = start(ws, cliEnv(ws, ['VALUE']));
    await waitForStarts(cli, ws, 1);
    await waitForRequests(cli, { path: 'auth/approle/login', status: 200 }, 1, 'a login before expiry');
    vault.tokens.revokeAll();
    await waitForRequests(cli, { path: 'auth/approle/login', status: 200 }, 1, 'a login after revocation');
    await waitForRequests(cli, { path: `secret/data/${path}`, status: 200 }, 3, 'reads with the new token');
    expect(starts(ws)).toBe(1);
    expect(await stop(cli)).toBe(0);
  });

  it.each([
    [['check'], true],
    [['env'], true],
    [['env', '--reveal'], false],
  ])('%j revokes the dynamic credentials it issued only when their values are not handed out (%s)', async (args, revoked) => {
    const role = uniquePath('one-shot');
    vault.secrets.addDatabaseRole({ role, ttl: 600, credentials: () => ({ username: randomSecret('user'), password: randomSecret('pw') }) });
    const ws = workspace(`    path: database/creds/${role}`);
    const result = await runCli([...args, '-c', ws.config], {
      cwd: ws.dir,
      env: cliEnv(ws, [], { VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }) }),
      allowSecretsOnStdout: args.includes('--reveal'),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(
      vault.secrets
        .leases()
        .filter((lease) => lease.role === role)
        .map((lease) => lease.revoked),
    ).toEqual([revoked]);
  });

  it('revokes its lease on exit with revokeOnExit', async () => {
    const role = uniquePath('revoked');
    vault.secrets.addDatabaseRole({ role, ttl: 600, credentials: () => ({ username: randomSecret('user'), password: randomSecret('pw') }) });
    const ws = workspace(`    path: database/creds/${role}\n    revokeOnExit: true`);
    const cli = start(ws, cliEnv(ws, ['username'], { VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }) }));
    await waitForStarts(cli, ws, 1);
    expect(
      vault.secrets
        .leases()
        .filter((lease) => lease.role === role)
        .map((lease) => lease.revoked),
    ).toEqual([false]);
    expect(await stop(cli)).toBe(0);
    expect(
      vault.secrets
        .leases()
        .filter((lease) => lease.role === role)
        .map((lease) => lease.revoked),
    ).toEqual([true]);
  });
});
