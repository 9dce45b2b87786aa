import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES } from '../helpers/project.js';
import { randomSecret, trackSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { describeReal } from './tools/require-tool.js';
import { BAO_NEEDS, startDevServer, type BaoServer } from './openbao/bao-server.js';
import { makeTestPki, type TestPki } from './openbao/test-ca.js';
import { startTokenReviewServer, type TokenReviewServer } from './openbao/token-review.js';
import { cliEnv, startRun, startValues, stopRun, waitForStarts, workspace } from './openbao/workspace.js';

// Every auth method of the README against a real OpenBao dev server, through
// the built CLI: token (tokenFile, VAULT_TOKEN, ~/.vault-token), AppRole with a
// secret-id good for one use, Kubernetes (OpenBao's own kubernetes method
// asking a TokenReview endpoint of the test), and namespaces.

// A real server on a shared, loaded machine: generous limits; every wait is on an event.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

describeReal('OpenBao auth', BAO_NEEDS, () => {
  let bao: BaoServer;
  let reviewer: TokenReviewServer;
  let pki: TestPki;

  beforeAll(async () => {
    bao = await startDevServer();
    pki = makeTestPki(mkdtempSync(join(tmpdir(), 'sv-k8s-pki-')));
    reviewer = await startTokenReviewServer(pki);
    await bao.bao(['auth', 'enable', 'approle']);
    await bao.bao(['auth', 'enable', 'kubernetes']);
    await bao.bao(['write', 'auth/kubernetes/config', `kubernetes_host=${reviewer.url}`, `kubernetes_ca_cert=@${pki.caFile}`, 'disable_local_ca_jwt=true']);
    await bao.bao(['policy', 'write', 'read-app', '-'], { input: 'path "secret/data/app/*" { capabilities = ["read"] }\n' });
  }, 60_000);

  afterAll(async () => {
    await bao?.destroy();
    await reviewer?.stop();
    if (pki !== undefined) rmSync(dirname(pki.caFile), { recursive: true, force: true });
  });

  let counter = 0;
  /** Writes a fresh KV v2 secret under secret/app/ and returns its API path and values. */
  async function putSecret(values: Record<string, string>, namespace?: string): Promise<string> {
    counter += 1;
    const path = `app/s${counter}`;
    await bao.bao(['kv', 'put', `secret/${path}`, ...Object.entries(values).map(([key, value]) => `${key}=${value}`)], { namespace });
    return `secret/data/${path}`;
  }

  /** A token with the read-app policy (not root), as an operator would hand out. */
  async function appToken(options: { namespace?: string; policy?: string } = {}): Promise<string> {
    const created = await bao.baoJson<{ auth: { client_token: string } }>(['token', 'create', `-policy=${options.policy ?? 'read-app'}`, '-ttl=10m'], {
      namespace: options.namespace,
    });
    return trackSecret(created.auth.client_token);
  }

  describe('token', () => {
    it('reads KV v2 with a token from tokenFile; the child never sees the token or VAULT_*', async () => {
      const value = randomSecret('value');
      const path = await putSecret({ VALUE: value });
      const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: ${path}\n    auth:\n      method: token\n      tokenFile: ./token`);
      const token = await appToken();
      writeSecretFile(join(ws.dir, 'token'), `${token}\n`);
      const cli = startRun(ws, cliEnv(ws, ['VALUE', 'VAULT_TOKEN', 'VAULT_ADDR'], { VAULT_ADDR: bao.address, VAULT_TOKEN: randomSecret('unused-env-token') }));
      await waitForStarts(cli, ws, 1);
      expect(startValues(ws)).toEqual([{ VALUE: value, VAULT_TOKEN: null, VAULT_ADDR: null }]);
      expect(await stopRun(cli)).toBe(0);
    });

    it('check reads with VAULT_TOKEN and VAULT_ADDR, printing names and never values', async () => {
      const path = await putSecret({ DB_PASSWORD: randomSecret('db-password'), API_KEY: randomSecret('api-key') });
      const ws = workspace(`  core:\n    type: vault\n    path: ${path}`);
      const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_ADDR: bao.address, VAULT_TOKEN: await appToken() }) });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/API_KEY\s+core/);
      expect(result.stdout).toMatch(/DB_PASSWORD\s+core/);
    });

    it('falls back to ~/.vault-token of HOME when neither tokenFile nor VAULT_TOKEN is set', async () => {
      const value = randomSecret('value');
      const path = await putSecret({ VALUE: value });
      const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: ${path}`);
      const home = tempDir('sv-home-');
      writeSecretFile(join(home, '.vault-token'), await appToken());
      const cli = startRun(ws, cliEnv(ws, ['VALUE'], { HOME: home }));
      await waitForStarts(cli, ws, 1);
      expect(startValues(ws)).toEqual([{ VALUE: value }]);
      expect(await stopRun(cli)).toBe(0);
    });

    it('a token of a policy that does not cover the path: exit 77 at once naming the path and the 403', async () => {
      const path = await putSecret({ VALUE: randomSecret('value') });
      await bao.bao(['policy', 'write', 'elsewhere', '-'], { input: 'path "secret/data/other/*" { capabilities = ["read"] }\n' });
      const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: ${path}`, { startupTimeout: '5s' });
      const result = await runCli(['run', '-c', ws.config, '--', process.execPath, FIXTURES.recordEnv], {
        cwd: ws.dir,
        env: cliEnv(ws, [], { VAULT_TOKEN: await appToken({ policy: 'elsewhere' }) }),
      });
      expect(result.code).toBe(77);
      expect(logText(result.stderr)).toContain(`read ${path}`);
      expect(logText(result.stderr)).toContain('403 permission denied');
    });
  });

  describe('AppRole', () => {
    it('two sources share one login: a secret-id good for one use serves both; a second process with it is refused (69)', async () => {
      const role = `app-${++counter}`;
      await bao.bao(['write', `auth/approle/role/${role}`, 'token_policies=read-app', 'secret_id_num_uses=1', 'token_ttl=10m']);
      const roleId = trackSecret((await bao.bao(['read', '-field=role_id', `auth/approle/role/${role}/role-id`])).trim());
      const secretId = trackSecret((await bao.bao(['write', '-f', '-field=secret_id', `auth/approle/role/${role}/secret-id`])).trim());
      const first = randomSecret('first');
      const second = randomSecret('second');
      const pathA = await putSecret({ FIRST: first });
      const pathB = await putSecret({ SECOND: second });
      const auth = `    auth:\n      method: approle\n      roleIdFile: role-id\n      secretIdFile: secret-id`;
      const ws = workspace(`  a:\n    type: vault\n    address: ${bao.address}\n    path: ${pathA}\n${auth}\n  b:\n    type: vault\n    address: ${bao.address}\n    path: ${pathB}\n${auth}`, {
        extra: 'scopes:\n  global: [a, b]\n',
        startupTimeout: '5s',
      });
      writeSecretFile(join(ws.dir, 'role-id'), `${roleId}\n`);
      writeSecretFile(join(ws.dir, 'secret-id'), `${secretId}\n`);
      const logins = () => bao.audit.count({ path: 'auth/approle/login' });
      const cli = startRun(ws, cliEnv(ws, ['FIRST', 'SECOND']));
      await waitForStarts(cli, ws, 1);
      expect(startValues(ws)).toEqual([{ FIRST: first, SECOND: second }]);
      expect(logins()).toBe(1);
      expect(await stopRun(cli)).toBe(0);

      const again = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, []) });
      expect(again.code).toBe(77);
      expect(logText(again.stderr)).toMatch(/Vault refused the approle login at auth\/approle\/login: 400 invalid (role or )?secret ID/i);
      expect(bao.audit.count({ path: 'auth/approle/login', failed: false })).toBe(1);
    });
  });

  describe('Kubernetes', () => {
    it('logs in with a service-account JWT that OpenBao has the TokenReview endpoint vouch for', async () => {
      const account = reviewer.addServiceAccount('apps', 'worker');
      await bao.bao(['write', 'auth/kubernetes/role/worker', 'bound_service_account_names=worker', 'bound_service_account_namespaces=apps', 'token_policies=read-app']);
      const value = randomSecret('value');
      const path = await putSecret({ VALUE: value });
      const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: ${path}\n    auth:\n      method: kubernetes\n      role: worker\n      jwtFile: jwt`);
      writeSecretFile(join(ws.dir, 'jwt'), account.jwt);
      const reviewsBefore = reviewer.reviews.length;
      const cli = startRun(ws, cliEnv(ws, ['VALUE']));
      await waitForStarts(cli, ws, 1);
      expect(startValues(ws)).toEqual([{ VALUE: value }]);
      expect(reviewer.reviews.slice(reviewsBefore)).toEqual([true]);
      expect(await stopRun(cli)).toBe(0);
    });

    it('a service account the role does not bind is refused: exit 77 at once naming the kubernetes login', async () => {
      const stranger = reviewer.addServiceAccount('apps', 'frontend');
      const path = await putSecret({ VALUE: randomSecret('value') });
      const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: ${path}\n    auth:\n      method: kubernetes\n      role: worker\n      jwtFile: jwt`, {
        startupTimeout: '5s',
      });
      writeSecretFile(join(ws.dir, 'jwt'), stranger.jwt);
      const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, []) });
      expect(result.code).toBe(77);
      expect(logText(result.stderr)).toContain('Vault refused the kubernetes login at auth/kubernetes/login');
    });
  });

  describe('namespaces', () => {
    it('reads a namespace of its own (namespace: and VAULT_NAMESPACE), with a token made in it, never the same path of the root namespace', async () => {
      await bao.bao(['namespace', 'create', 'platform']);
      await bao.bao(['secrets', 'enable', '-path=secret', 'kv-v2'], { namespace: 'platform' });
      await bao.bao(['policy', 'write', 'read-app', '-'], { namespace: 'platform', input: 'path "secret/data/app/*" { capabilities = ["read"] }\n' });
      const inPlatform = randomSecret('platform');
      counter += 1;
      await bao.bao(['kv', 'put', `secret/app/ns${counter}`, `VALUE=${inPlatform}`], { namespace: 'platform' });
      await bao.bao(['kv', 'put', `secret/app/ns${counter}`, `VALUE=${randomSecret('root-namespace')}`]);
      const token = await appToken({ namespace: 'platform' });
      const path = `secret/data/app/ns${counter}`;

      const configured = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    namespace: platform\n    path: ${path}`);
      const cli = startRun(configured, cliEnv(configured, ['VALUE'], { VAULT_TOKEN: token }));
      await waitForStarts(cli, configured, 1);
      expect(startValues(configured)).toEqual([{ VALUE: inPlatform }]);
      expect(await stopRun(cli)).toBe(0);

      const fromEnv = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: ${path}`);
      const viaEnv = startRun(fromEnv, cliEnv(fromEnv, ['VALUE', 'VAULT_NAMESPACE'], { VAULT_TOKEN: token, VAULT_NAMESPACE: 'platform' }));
      await waitForStarts(viaEnv, fromEnv, 1);
      expect(startValues(fromEnv)).toEqual([{ VALUE: inPlatform, VAULT_NAMESPACE: null }]);
      expect(await stopRun(viaEnv)).toBe(0);
      expect(
        bao.audit
          .responses()
          .filter((entry) => entry.request.path === path && entry.request.operation === 'read')
          .map((entry) => entry.request.namespace?.path),
      ).toEqual(['platform/', 'platform/']);
    });
  });
});
