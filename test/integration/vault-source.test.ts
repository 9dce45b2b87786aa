import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';
import { vaultSourceConfig } from '../servers/vault/fixtures.js';
import { captureLog, type LogCapture } from '../helpers/log-capture.js';
import { pollUntil } from '../helpers/poll-until.js';
import { expectNoLeak, randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { makeTestCertificate } from '../servers/vault/tls.js';
import { systemClock } from '../../src/clock.js';
import { createVaultSource } from '../../src/sources/vault/vault-source.js';
import type { SecretSource, Snapshot } from '../../src/sources/source.js';
import { SecretvisorError, describeError } from '../../src/errors.js';

// The Vault source through the real node-vault client against the test
// server, without the CLI: auth methods, secret kinds, sharing, failures.

let vault: VaultServer;
let capture: LogCapture;
const opened: SecretSource[] = [];

beforeEach(async () => {
  vault = await startVaultServer({ namespaces: ['platform'] });
  capture = captureLog();
});

afterEach(async () => {
  for (const source of opened.splice(0)) await source.close();
  await vault.stop();
  capture.expectNoLeak('the Vault source log');
});

function open(overrides: Partial<Parameters<typeof vaultSourceConfig>[0]> & { path: string }, env: NodeJS.ProcessEnv = {}): SecretSource {
  const source = createVaultSource({
    config: vaultSourceConfig({ address: vault.address, ...overrides }, env),
    log: capture.log,
    clock: systemClock,
    env,
    service: undefined,
    pool: undefined,
  });
  opened.push(source);
  return source;
}

function read(source: SecretSource): Promise<Snapshot> {
  return source.read(new AbortController().signal);
}

function values(snapshot: Snapshot): Record<string, string> {
  return Object.fromEntries([...snapshot.entries].map(([key, value]) => [key, value.reveal()]));
}

async function failure(promise: Promise<unknown>): Promise<SecretvisorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SecretvisorError);
  expectNoLeak(describeError(error), 'the error');
  return error as SecretvisorError;
}

describe('vault source: auth methods', () => {
  it('token from VAULT_TOKEN: reads KV v2 with its version and time, one GET per read when unchanged', async () => {
    const token = vault.tokens.create({ id: randomSecret('token') });
    const apiKey = randomSecret('api-key');
    vault.secrets.putKv2('secret', 'noxus/global', { API_KEY: apiKey });
    const source = open({ path: 'secret/data/noxus/global' }, { VAULT_TOKEN: token });
    const first = await read(source);
    expect(values(first)).toEqual({ API_KEY: apiKey });
    expect(first.version).toMatch(/^kv2:1:/);
    expect(first.updatedAt).toBeInstanceOf(Date);
    const second = await read(source);
    expect(second.version).toBe(first.version);
    expect(vault.requestLog.count({ path: 'secret/data/noxus/global' })).toBe(2);
    expect(vault.requestLog.count({ path: 'auth/token/lookup-self' })).toBe(1);
  });

  it('token from tokenFile (trailing newline stripped) wins over VAULT_TOKEN; ~/.vault-token is the last resort', async () => {
    const dir = tempDir();
    const fileToken = vault.tokens.create({ id: randomSecret('file-token') });
    const homeToken = vault.tokens.create({ id: randomSecret('home-token') });
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    const tokenFile = writeSecretFile(join(dir, 'token'), `${fileToken}\n`);
    writeSecretFile(join(dir, '.vault-token'), `${homeToken}\n`);
    await read(open({ path: 'kv/app', auth: { method: 'token', tokenFile } }, { VAULT_TOKEN: 'not-used' }));
    await read(open({ name: 'home', path: 'kv/app' }, { HOME: dir }));
    expect(vault.requestLog.count({ path: 'kv/app', status: 200 })).toBe(2);
    expect(vault.tokens.list().filter((t) => t.id === fileToken || t.id === homeToken)).toHaveLength(2);
  });

  it('refuses a token file others can read (exit 77) under strict permissions', async () => {
    const dir = tempDir();
    const tokenFile = writeSecretFile(join(dir, 'token'), vault.tokens.create({ id: randomSecret('token') }), 0o644);
    const error = await failure(read(open({ path: 'kv/app', auth: { method: 'token', tokenFile } })));
    expect(error.exitCode).toBe(77);
    expect(error.message).toContain(tokenFile);
  });

  it('approle with roleIdFile and secretIdFile on a custom mount', async () => {
    const dir = tempDir();
    const roleId = randomSecret('role-id');
    const secretId = randomSecret('secret-id');
    vault.tokens.addAppRole({ roleId, secretId, mount: 'apps', tokens: [randomSecret('approle-token')] });
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    const roleIdFile = writeSecretFile(join(dir, 'role-id'), `${roleId}\n`);
    const secretIdFile = writeSecretFile(join(dir, 'secret-id'), `${secretId}\n`);
    const snapshot = await read(open({ path: 'kv/app', auth: { method: 'approle', roleIdFile, secretIdFile, mount: 'apps' } }));
    expect(values(snapshot)).toEqual({ A: '1' });
    expect(vault.requestLog.count({ path: 'auth/apps/login', status: 200 })).toBe(1);
  });

  it('kubernetes with a jwtFile, in a namespace', async () => {
    const dir = tempDir();
    const jwt = randomSecret('jwt');
    vault.tokens.addKubernetesRole({ role: 'worker', jwt, namespace: 'platform', tokens: [randomSecret('k8s-token')] });
    vault.secrets.putKv2('secret', 'app', { WHERE: 'platform' }, 'platform');
    const jwtFile = writeSecretFile(join(dir, 'jwt'), jwt);
    const source = open({ path: 'secret/data/app', namespace: 'platform', auth: { method: 'kubernetes', role: 'worker', jwtFile } });
    expect(values(await read(source))).toEqual({ WHERE: 'platform' });
    expect(vault.requestLog.count({ path: 'auth/kubernetes/login', namespace: 'platform', status: 200 })).toBe(1);
  });

  it('shares one login among sources with the same address, namespace and auth', async () => {
    const roleId = randomSecret('role-id');
    vault.tokens.addAppRole({ roleId, tokens: [randomSecret('shared-token')] });
    vault.secrets.putKv1('kv', 'a', { A: '1' });
    vault.secrets.putKv1('kv', 'b', { B: '2' });
    const auth = { method: 'approle', roleId } as const;
    const [a, b] = await Promise.all([read(open({ name: 'a', path: 'kv/a', auth })), read(open({ name: 'b', path: 'kv/b', auth }))]);
    expect([values(a), values(b)]).toEqual([{ A: '1' }, { B: '2' }]);
    expect(vault.requestLog.count({ path: 'auth/approle/login' })).toBe(1);
  });
});

describe('vault source: secret kinds', () => {
  it('KV v1 values that are not strings become JSON', async () => {
    const token = vault.tokens.create();
    vault.secrets.putKv1('kv', 'app', { TEXT: 'x', PORT: 5432, DEBUG: false, LIMITS: { max: 3 } });
    const snapshot = await read(open({ path: 'kv/app' }, { VAULT_TOKEN: token }));
    expect(values(snapshot)).toEqual({ TEXT: 'x', PORT: '5432', DEBUG: 'false', LIMITS: '{"max":3}' });
    expect(snapshot.version).toMatch(/^kv1:/);
  });

  it('KV v2: a new version is a new snapshot version', async () => {
    const token = vault.tokens.create();
    vault.secrets.putKv2('secret', 'app', { A: randomSecret() });
    const source = open({ path: 'secret/data/app' }, { VAULT_TOKEN: token });
    const before = await read(source);
    const rotated = randomSecret('rotated');
    vault.secrets.putKv2('secret', 'app', { A: rotated });
    const after = await read(source);
    expect(after.version).not.toBe(before.version);
    expect(values(after)).toEqual({ A: rotated });
  });

  it('dynamic credentials are issued once and answered from the lease until it is due', async () => {
    const token = vault.tokens.create();
    vault.secrets.addDatabaseRole({ role: 'app', ttl: 600, credentials: () => ({ username: randomSecret('user'), password: randomSecret('pw') }) });
    const source = open({ path: 'database/creds/app' }, { VAULT_TOKEN: token });
    const first = await read(source);
    expect(Object.keys(values(first)).sort()).toEqual(['password', 'username']);
    expect(first.version).toMatch(/^lease:database\/creds\/app\//);
    const second = await read(source);
    expect(second.version).toBe(first.version);
    expect(vault.requestLog.count({ path: 'database/creds/app' })).toBe(1);
  });

  it('renews a renewable lease at about 2/3 of its duration without new credentials', async () => {
    const token = vault.tokens.create();
    vault.secrets.addDatabaseRole({ role: 'app', ttl: 2, credentials: () => ({ username: randomSecret('user'), password: randomSecret('pw') }) });
    const source = open({ path: 'database/creds/app' }, { VAULT_TOKEN: token });
    const reasons: string[] = [];
    const first = await read(source);
    await source.watch((reason) => reasons.push(reason));
    const issuedAt = Date.now();
    await pollUntil(() => vault.requestLog.count({ path: 'sys/leases/renew', status: 200 }) >= 2, 'two lease renewals');
    expect(Date.now() - issuedAt).toBeGreaterThan(2_000);
    expect((await read(source)).version).toBe(first.version);
    expect(vault.requestLog.count({ path: 'database/creds/app' })).toBe(1);
    expect(reasons).toEqual([]);
  });

  it('re-issues a non-renewable lease at 85–90 % of its TTL: onDue, then the next read gets new credentials', async () => {
    const token = vault.tokens.create();
    const credentials = () => ({ username: randomSecret('user'), password: randomSecret('pw') });
    vault.secrets.addDatabaseRole({ role: 'app', ttl: 3, renewable: false, credentials });
    const source = open({ path: 'database/creds/app' }, { VAULT_TOKEN: token });
    const first = await read(source);
    const issuedAt = Date.now();
    const due = new Promise<string>((resolve) => source.watch(resolve));
    expect(await due).toContain('dynamic credentials');
    // 85–90 % of 3 s is 2.55–2.7 s: well before the lease ends at 3 s.
    expect(Date.now() - issuedAt).toBeGreaterThanOrEqual(2_500);
    expect(Date.now() - issuedAt).toBeLessThan(3_000);
    const second = await read(source);
    expect(second.version).not.toBe(first.version);
    expect(vault.requestLog.count({ path: 'database/creds/app' })).toBe(2);
  });

  it('revokes its leases on close with revokeOnExit', async () => {
    const token = vault.tokens.create();
    vault.secrets.addDatabaseRole({ role: 'app', ttl: 600 });
    const source = open({ path: 'database/creds/app', revokeOnExit: true }, { VAULT_TOKEN: token });
    await read(source);
    await source.close();
    expect(vault.secrets.leases().map((lease) => lease.revoked)).toEqual([true]);
    expect(vault.requestLog.count({ path: 'sys/leases/revoke', method: 'PUT', status: 204 })).toBe(1);
  });

  it('leaves leases alone on close without revokeOnExit', async () => {
    const token = vault.tokens.create();
    vault.secrets.addDatabaseRole({ role: 'app', ttl: 600 });
    const source = open({ path: 'database/creds/app' }, { VAULT_TOKEN: token });
    await read(source);
    await source.close();
    expect(vault.secrets.leases().map((lease) => lease.revoked)).toEqual([false]);
  });
});

describe('vault source: tokens over time', () => {
  it('renews its token at about 2/3 of the TTL instead of logging in again', async () => {
    vault.tokens.addAppRole({ roleId: 'app', tokenTtl: 2, tokens: [randomSecret('token')] });
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    await read(open({ path: 'kv/app', auth: { method: 'approle', roleId: 'app' } }));
    await pollUntil(() => vault.requestLog.count({ path: 'auth/token/renew-self', status: 200 }) >= 2, 'two token renewals');
    expect(vault.requestLog.count({ path: 'auth/approle/login' })).toBe(1);
  });

  // Vault revokes a token's leases with the token (seen on a real OpenBao: test/real/vault-database.test.ts), so
  // credentials issued under the old token are re-issued under the new one: one new issue per new login.
  it('logs in again before a non-renewable token expires, and re-issues the dynamic credentials under the new token', async () => {
    vault.tokens.addAppRole({ roleId: 'app', tokenTtl: 2, renewable: false, tokens: [randomSecret('t1'), randomSecret('t2'), randomSecret('t3')] });
    vault.secrets.addDatabaseRole({ role: 'app', ttl: 600 });
    const source = open({ path: 'database/creds/app', auth: { method: 'approle', roleId: 'app' } });
    const first = await read(source);
    await pollUntil(() => vault.requestLog.count({ path: 'auth/approle/login', status: 200 }) >= 2, 'a second login');
    // The server logs the login as it answers; the source hears of the new token once the answer is read.
    const second = await pollUntil(
      async () => {
        const snapshot = await read(source);
        return snapshot.version === first.version ? undefined : snapshot;
      },
      'a read with the new token',
      { timeoutMs: 5_000, intervalMs: 0 },
    );
    expect(second.version).not.toBe(first.version);
    expect(vault.requestLog.count({ path: 'database/creds/app' })).toBe(2);
  });

  it('logs in again when Vault revokes the token, and the read succeeds', async () => {
    vault.tokens.addAppRole({ roleId: 'app', tokens: [randomSecret('t1'), randomSecret('t2')] });
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    const source = open({ path: 'kv/app', auth: { method: 'approle', roleId: 'app' } });
    await read(source);
    vault.tokens.revokeAll();
    expect(values(await read(source))).toEqual({ A: '1' });
    expect(vault.requestLog.count({ path: 'auth/approle/login', status: 200 })).toBe(2);
  });
});

describe('vault source: failures', () => {
  function kvSource(): SecretSource {
    const token = vault.tokens.create({ id: randomSecret('token') });
    vault.secrets.putKv2('secret', 'app', { A: randomSecret() });
    return open({ path: 'secret/data/app', timeoutMs: 300 }, { VAULT_TOKEN: token });
  }

  it.each([
    ['sealed', () => (vault.faults.sealed = true), '503 Vault is sealed', 'unseal Vault'],
    ['a 500', () => (vault.faults.status = 500), '500 internal error', 'server error'],
    ['a timeout', () => (vault.faults.latencyMs = 1_000), 'no answer within 300ms', 'reachable'],
    ['a dropped connection', () => (vault.faults.resetConnections = true), 'socket hang up', 'reachable'],
  ])('%s is SourceUnavailableError naming the source, path and status', async (_name, inject, text, hint) => {
    const source = kvSource();
    await read(source);
    inject();
    const error = await failure(read(source));
    expect(error.exitCode).toBe(69);
    expect(error.message).toContain('vault source "core"');
    expect(error.message).toContain('secret/data/app');
    expect(error.message).toContain(text);
    expect(error.hint).toContain(hint);
    vault.faults.clear();
    expect((await read(source)).entries.size).toBe(1);
  });

  it('a missing path is NotFoundError (66, not retried) with a hint about the path and policy', async () => {
    const token = vault.tokens.create();
    const error = await failure(read(open({ path: 'secret/data/nothing' }, { VAULT_TOKEN: token })));
    expect(error.exitCode).toBe(66);
    expect(error.message).toContain('404');
    expect(error.hint).toContain('/data/');
  });

  it('a policy 403 on the path does not log in again', async () => {
    const source = kvSource();
    vault.faults.status = 403;
    vault.faults.paths = ['secret/'];
    const error = await failure(read(source));
    expect(error.exitCode).toBe(77);
    expect(error.message).toContain('403 permission denied');
    expect(error.hint).toContain('policy');
    expect(vault.requestLog.count({ path: 'auth/token/lookup-self' })).toBe(2);
  });

  it('an unreachable Vault is SourceUnavailableError', async () => {
    const source = kvSource();
    await vault.stop();
    const error = await failure(read(source));
    expect(error.message).toContain('ECONNREFUSED');
    vault = await startVaultServer();
  });

  it('a rejected token says where it came from, never what it is', async () => {
    const token = randomSecret('bad-token');
    const error = await failure(read(open({ path: 'kv/app' }, { VAULT_TOKEN: token })));
    expect(error.message).toContain('VAULT_TOKEN');
    expect(error.message).toContain('403');
  });

  it('keeps asking for a re-read at the refresh period through an outage, and recovers', async () => {
    const token = vault.tokens.create();
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    const source = open({ path: 'kv/app', refreshMs: 200 }, { VAULT_TOKEN: token });
    await read(source);
    const outcomes: string[] = [];
    await source.watch(
      () =>
        void read(source).then(
          () => outcomes.push('ok'),
          () => outcomes.push('failed'),
        ),
    );
    await pollUntil(() => outcomes.includes('ok'), 'a refresh');
    vault.faults.sealed = true;
    await pollUntil(() => outcomes.filter((outcome) => outcome === 'failed').length >= 2, 'two failed reads');
    vault.faults.clear();
    await pollUntil(() => outcomes.at(-1) === 'ok', 'a good read after the outage');
  });
});

describe('vault source: TLS', () => {
  it('trusts Vault through caCert, and refuses an unknown certificate without it', async () => {
    const certificate = makeTestCertificate(tempDir());
    const secure = await startVaultServer({ tls: certificate });
    try {
      const token = secure.tokens.create({ id: randomSecret('token') });
      secure.secrets.putKv1('kv', 'app', { A: '1' });
      expect(secure.address).toMatch(/^https:/);
      const trusted = open({ name: 'trusted', address: secure.address, caCert: certificate.caFile, path: 'kv/app' }, { VAULT_TOKEN: token });
      expect(values(await read(trusted))).toEqual({ A: '1' });
      const untrusted = open({ name: 'untrusted', address: secure.address, path: 'kv/app' }, { VAULT_TOKEN: token });
      const error = await failure(read(untrusted));
      expect(error.message).toMatch(/self-signed certificate/);
      expect(error.hint).toContain('caCert');
    } finally {
      await secure.stop();
    }
  });

  it('a missing caCert file is a config error (exit 78) naming it', async () => {
    const error = await failure(read(open({ path: 'kv/app', caCert: '/nonexistent/ca.pem' }, { VAULT_TOKEN: 'unused' })));
    expect(error.exitCode).toBe(78);
    expect(error.message).toContain('/nonexistent/ca.pem');
  });
});
