import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';
import { startRecordingServer, type RecordingServer } from '../servers/recording-server.js';
import { makeTestCertificate } from '../servers/vault/tls.js';

// Issue #13 item 2: Vault credentials never leave for another host. The
// project's test Vault answers with a redirect to "another host" — a
// loopback server that records whatever arrives and answers with secrets of
// its own — and secretvisor must send it no token, no AppRole login body, and
// take none of its answer as secrets; https never falls back to http; one
// redirect at most, only to origins `followRedirects` lists, and logged.

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function vaultServer(options: Parameters<typeof startVaultServer>[0] = {}): Promise<VaultServer> {
  const server = await startVaultServer(options);
  stops.push(() => server.stop());
  return server;
}

/** The other host: a KV v2 answer with a value secretvisor must never hand on. */
async function otherHost(): Promise<{ readonly server: RecordingServer; readonly planted: string }> {
  const planted = randomSecret('planted');
  const server = await startRecordingServer({ data: { data: { PLANTED: planted }, metadata: { version: 1, created_time: new Date().toISOString() } } });
  stops.push(() => server.stop());
  return { server, planted };
}

function config(dir: string, address: string, extra = ''): string {
  const file = join(dir, 'secretvisor.yaml');
  writeFileSync(file, `version: 1\nsources:\n  core:\n    type: vault\n    address: ${address}\n    path: secret/data/app\n${extra}startup:\n  timeout: 2s\n`);
  return file;
}

function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', SECRETVISOR_LOG_LEVEL: 'debug', ...extra });
}

describe('Vault credentials never leave for another host', () => {
  it('a KV read redirected to another host: no token is sent there, its answer is not used, and the error names followRedirects', async () => {
    const vault = await vaultServer();
    const { server, planted } = await otherHost();
    const token = vault.tokens.create({ id: randomSecret('token') });
    vault.secrets.putKv2('secret', 'app', { API_KEY: randomSecret('api-key') });
    vault.faults.redirectTo = server.origin;
    vault.faults.paths = ['secret/'];
    const dir = tempDir('sv-redirect-');
    const result = await runCli(['env', '--reveal', '-c', config(dir, vault.address)], { cwd: dir, env: env({ VAULT_TOKEN: token }), allowSecretsOnStdout: true });
    expect(result.code, result.stderr).toBe(69);
    expect(logText(result.stderr)).toContain(`Vault redirected to ${server.origin}/v1/secret/data/app, which followRedirects does not allow`);
    expect(server.received).toEqual([]);
    expect(result.stdout).not.toContain(planted);
    expect(vault.requestLog.count({ path: 'secret/data/app', status: 307 })).toBeGreaterThan(0);
  });

  it('an AppRole login redirected to another host: neither role_id nor secret_id is posted there', async () => {
    const vault = await vaultServer();
    const { server } = await otherHost();
    const roleId = randomSecret('role-id');
    const secretId = randomSecret('secret-id');
    vault.tokens.addAppRole({ roleId, secretId, tokens: [randomSecret('approle-token')] });
    vault.faults.redirectTo = server.origin;
    vault.faults.paths = ['auth/approle/login'];
    const dir = tempDir('sv-redirect-');
    writeSecretFile(join(dir, 'role-id'), roleId);
    writeSecretFile(join(dir, 'secret-id'), secretId);
    const file = config(dir, vault.address, '    auth:\n      method: approle\n      roleIdFile: ./role-id\n      secretIdFile: ./secret-id\n');
    const result = await runCli(['check', '-c', file], { cwd: dir, env: env({}) });
    expect(result.code, result.stderr).toBe(69);
    expect(logText(result.stderr)).toContain('which followRedirects does not allow');
    expect(server.received).toEqual([]);
    expect(server.text()).not.toContain(roleId);
  });

  it('https never falls back to http: a redirect from an https Vault to http is refused even with followRedirects: same-origin', async () => {
    const certificate = makeTestCertificate(tempDir('sv-tls-'));
    const vault = await vaultServer({ tls: { key: certificate.key, cert: certificate.cert } });
    const { server } = await otherHost();
    const token = vault.tokens.create({ id: randomSecret('token') });
    vault.secrets.putKv2('secret', 'app', { API_KEY: randomSecret('api-key') });
    vault.faults.redirectTo = server.origin;
    vault.faults.paths = ['secret/'];
    const dir = tempDir('sv-redirect-');
    const file = config(dir, vault.address, '    followRedirects: same-origin\n');
    const result = await runCli(['check', '-c', file], { cwd: dir, env: env({ VAULT_TOKEN: token, VAULT_CACERT: certificate.caFile }) });
    expect(result.code, result.stderr).toBe(69);
    expect(logText(result.stderr)).toContain('Vault redirected from https to http');
    expect(server.received).toEqual([]);
  });

  it('listing a plain-http origin for an https Vault is a config error (exit 78)', async () => {
    const dir = tempDir('sv-redirect-');
    const file = config(dir, 'https://127.0.0.1:8200', '    followRedirects: ["http://127.0.0.1:8201"]\n');
    const result = await runCli(['check', '-c', file], { cwd: dir, env: env({ VAULT_TOKEN: randomSecret('token') }) });
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain('is plain http while the address is https');
  });

  it('an HA standby redirect to a listed origin is followed once, logged, and its answer used', async () => {
    const standby = await vaultServer();
    const active = await vaultServer();
    const tokenId = randomSecret('token');
    standby.tokens.create({ id: tokenId });
    active.tokens.create({ id: tokenId });
    const apiKey = randomSecret('api-key');
    active.secrets.putKv2('secret', 'app', { API_KEY: apiKey });
    standby.faults.redirectTo = active.address;
    standby.faults.paths = ['secret/'];
    const dir = tempDir('sv-redirect-');
    const file = config(dir, standby.address, `    followRedirects: ["${active.address}"]\n`);
    const result = await runCli(['env', '--reveal', '-c', file], { cwd: dir, env: env({ VAULT_TOKEN: tokenId }), allowSecretsOnStdout: true });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`API_KEY=${apiKey}`);
    expect(logText(result.stderr)).toContain(`following Vault's redirect to ${active.address} (followRedirects)`);
    expect(active.requestLog.count({ path: 'secret/data/app', status: 200 })).toBe(1);
  });

  it('a second redirect is never followed, even to a listed origin', async () => {
    const standby = await vaultServer();
    const active = await vaultServer();
    const { server, planted } = await otherHost();
    const tokenId = randomSecret('token');
    standby.tokens.create({ id: tokenId });
    active.tokens.create({ id: tokenId });
    standby.faults.redirectTo = active.address;
    standby.faults.paths = ['secret/'];
    active.faults.redirectTo = server.origin;
    active.faults.paths = ['secret/'];
    const dir = tempDir('sv-redirect-');
    const file = config(dir, standby.address, `    followRedirects: ["${active.address}", "${server.origin}"]\n`);
    const result = await runCli(['env', '--reveal', '-c', file], { cwd: dir, env: env({ VAULT_TOKEN: tokenId }), allowSecretsOnStdout: true });
    expect(result.code, result.stderr).toBe(69);
    expect(logText(result.stderr)).toContain('secretvisor follows at most one redirect');
    expect(server.received).toEqual([]);
    expect(result.stdout).not.toContain(planted);
  });
});

describe('Vault answers have a capped size', () => {
  it('refuses an answer over maxResponseSize (default 1MiB) with exit 65, and takes it when the cap is raised', async () => {
    const vault = await vaultServer();
    const token = vault.tokens.create({ id: randomSecret('token') });
    const big = `${randomSecret('big')}${'x'.repeat(2 * 1024 * 1024)}`;
    vault.secrets.putKv2('secret', 'app', { BIG: big });
    const dir = tempDir('sv-size-');
    const refused = await runCli(['check', '-c', config(dir, vault.address)], { cwd: dir, env: env({ VAULT_TOKEN: token }) });
    expect(refused.code, refused.stderr).toBe(65);
    expect(logText(refused.stderr)).toContain("Vault's answer for /v1/secret/data/app is larger than 1MiB; it was cut off unread");
    const raised = await runCli(['check', '-c', config(dir, vault.address, '    maxResponseSize: 4MiB\n    asEnv: false\n')], { cwd: dir, env: env({ VAULT_TOKEN: token }) });
    expect(raised.code, raised.stderr).toBe(0);
  });
});
