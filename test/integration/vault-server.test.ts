import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nodeVault from 'node-vault';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';
import { randomSecret } from '../helpers/secrets.js';

// The test server is only useful if the real client works against it
// unchanged: these tests drive it with node-vault, as the source does.

let vault: VaultServer;

beforeEach(async () => {
  vault = await startVaultServer({ namespaces: ['platform'] });
});

afterEach(async () => {
  await vault.stop();
});

function client(token?: string, namespace?: string): nodeVault.client {
  const created = nodeVault({ endpoint: vault.address, token: token ?? 'unused', namespace, debug: () => undefined });
  if (token === undefined) created.token = '';
  return created;
}

async function statusOf(promise: Promise<unknown>): Promise<{ status: number | undefined; message: string }> {
  try {
    await promise;
    return { status: 200, message: '' };
  } catch (error) {
    const failure = error as { response?: { statusCode: number }; message: string };
    return { status: failure.response?.statusCode, message: failure.message };
  }
}

describe('test Vault server', () => {
  it('serves KV v2 data with version metadata, and metadata', async () => {
    const token = vault.tokens.create({ id: randomSecret('token') });
    vault.secrets.putKv2('secret', 'app/config', { API_KEY: 'one' });
    vault.secrets.putKv2('secret', 'app/config', { API_KEY: 'two' });
    const read = await client(token).read('secret/data/app/config');
    expect(read.data.data).toEqual({ API_KEY: 'two' });
    expect(read.data.metadata).toMatchObject({ version: 2, destroyed: false, deletion_time: '' });
    expect(read).toMatchObject({ lease_id: '', renewable: false, lease_duration: 0, wrap_info: null, auth: null });
    const metadata = await client(token).read('secret/metadata/app/config');
    expect(metadata.data).toMatchObject({ current_version: 2, versions: { '1': { destroyed: false } } });
    const old = await client(token).read('secret/data/app/config?version=1');
    expect(old.data.data).toEqual({ API_KEY: 'one' });
  });

  it('writes KV v2 through the API', async () => {
    const token = vault.tokens.create();
    const written = await client(token).write('secret/data/app', { data: { A: '1' } });
    expect(written.data.version).toBe(1);
    expect(vault.secrets.getKv2('secret', 'app')?.versions[0]?.data).toEqual({ A: '1' });
  });

  it('serves KV v1 with its fixed lease duration', async () => {
    const token = vault.tokens.create();
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    const read = await client(token).read('kv/app');
    expect(read.data).toEqual({ A: '1' });
    expect(read.lease_duration).toBe(2_764_800);
  });

  it('answers 404 with an empty errors list for a missing secret, and "no handler" for an unknown mount', async () => {
    const token = vault.tokens.create();
    expect(await statusOf(client(token).read('secret/data/missing'))).toEqual({ status: 404, message: 'Status 404' });
    const unknown = await statusOf(client(token).read('nowhere/thing'));
    expect(unknown.status).toBe(404);
    expect(unknown.message).toContain('no handler for route');
  });

  it('refuses a missing, unknown, revoked or expired token with 403 permission denied', async () => {
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    const revoked = vault.tokens.create();
    vault.tokens.revoke(revoked);
    for (const token of [undefined, 'not-a-token', revoked]) {
      expect(await statusOf(client(token).read('kv/app'))).toEqual({ status: 403, message: 'permission denied' });
    }
  });

  it('logs in with AppRole and Kubernetes, issuing tokens with their TTL', async () => {
    const roleId = randomSecret('role-id');
    const secretId = randomSecret('secret-id');
    const jwt = randomSecret('jwt');
    vault.tokens.addAppRole({ roleId, secretId, tokenTtl: 120 });
    vault.tokens.addKubernetesRole({ role: 'app', jwt, mount: 'k8s', tokenTtl: 60, renewable: false });
    const approle = await client().approleLogin({ role_id: roleId, secret_id: secretId });
    expect(approle.auth).toMatchObject({ lease_duration: 120, renewable: true, metadata: { role_name: roleId } });
    const k8s = await client().kubernetesLogin({ role: 'app', jwt, mount_point: 'k8s' });
    expect(k8s.auth).toMatchObject({ lease_duration: 60, renewable: false });
    expect(await statusOf(client().approleLogin({ role_id: roleId, secret_id: 'wrong' }))).toMatchObject({ status: 400 });
    expect(await statusOf(client().kubernetesLogin({ role: 'app', jwt: 'wrong', mount_point: 'k8s' }))).toMatchObject({ status: 403 });
  });

  it('looks up and renews its own token, refusing to renew a non-renewable one', async () => {
    const token = vault.tokens.create({ ttl: 60, maxTtl: 90 });
    const lookup = await client(token).tokenLookupSelf();
    expect(lookup.data).toMatchObject({ ttl: 60, renewable: true, creation_ttl: 60 });
    const renewed = await client(token).tokenRenewSelf({ increment: '120s' });
    expect(renewed.auth.lease_duration).toBe(90);
    expect(renewed.warnings).toHaveLength(1);
    const fixed = vault.tokens.create({ ttl: 60, renewable: false });
    expect(await statusOf(client(fixed).tokenRenewSelf())).toEqual({ status: 400, message: 'lease is not renewable' });
  });

  it('issues dynamic database credentials with leases that renew, look up and revoke', async () => {
    const token = vault.tokens.create();
    vault.secrets.addDatabaseRole({ role: 'app', ttl: 30, maxTtl: 45 });
    const creds = await client(token).read('database/creds/app');
    expect(creds).toMatchObject({ lease_duration: 30, renewable: true });
    expect(creds.lease_id).toMatch(/^database\/creds\/app\//);
    expect(Object.keys(creds.data).sort()).toEqual(['password', 'username']);
    const renewed = await client(token).renew({ lease_id: creds.lease_id, increment: 60 });
    expect(renewed).toMatchObject({ lease_id: creds.lease_id, renewable: true, lease_duration: 45 });
    const lookup = await client(token).request({ path: '/sys/leases/lookup', method: 'PUT', json: { lease_id: creds.lease_id } });
    expect(lookup.data).toMatchObject({ id: creds.lease_id, renewable: true });
    await client(token).revoke({ lease_id: creds.lease_id });
    expect(vault.secrets.leases()[0]?.revoked).toBe(true);
    expect(await statusOf(client(token).renew({ lease_id: creds.lease_id }))).toEqual({ status: 400, message: 'lease not found' });
  });

  it('keeps namespaces apart, and tokens work only in their own namespace', async () => {
    const inside = vault.tokens.create({ namespace: 'platform' });
    vault.secrets.putKv2('secret', 'app', { WHERE: 'platform' }, 'platform');
    vault.secrets.putKv2('secret', 'app', { WHERE: 'root' });
    expect((await client(inside, 'platform').read('secret/data/app')).data.data).toEqual({ WHERE: 'platform' });
    expect(await statusOf(client(inside).read('secret/data/app'))).toMatchObject({ status: 403 });
    expect(await statusOf(client(inside, 'elsewhere').read('secret/data/app'))).toMatchObject({ status: 403 });
    expect(vault.requestLog.count({ namespace: 'platform' })).toBe(1);
  });

  it('injects faults: sealed, a status, latency and dropped connections, limited by path', async () => {
    const token = vault.tokens.create();
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    vault.faults.sealed = true;
    expect(await statusOf(client(token).read('kv/app'))).toEqual({ status: 503, message: 'Vault is sealed' });
    expect(await client().health()).toMatchObject({ sealed: true });
    vault.faults.clear();
    vault.faults.status = 500;
    vault.faults.paths = ['kv/'];
    expect(await statusOf(client(token).read('kv/app'))).toEqual({ status: 500, message: 'internal error' });
    expect(await client(token).tokenLookupSelf()).toBeDefined();
    vault.faults.clear();
    vault.faults.resetConnections = true;
    const reset = await statusOf(client(token).read('kv/app'));
    expect(reset.status).toBeUndefined();
    expect(reset.message).toMatch(/socket hang up|ECONNRESET/);
    vault.faults.clear();
    vault.faults.latencyMs = 300;
    const started = Date.now();
    await client(token).read('kv/app');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('counts requests per path', async () => {
    const token = vault.tokens.create();
    vault.secrets.putKv1('kv', 'app', { A: '1' });
    await client(token).read('kv/app');
    await client(token).read('kv/app');
    await client(token).tokenLookupSelf();
    expect(vault.requestLog.count({ path: 'kv/app', method: 'GET', status: 200 })).toBe(2);
    expect(vault.requestLog.count({ path: 'auth/*' })).toBe(1);
    expect(vault.requestLog.count()).toBe(3);
  });
});
