import { chmodSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { writeSecretFile } from '../helpers/tmp.js';
import { describeReal } from './tools/require-tool.js';
import { BAO_NEEDS, startDevServer, type BaoServer } from './openbao/bao-server.js';
import { JwtIssuer } from './openbao/jwt-issuer.js';
import { cliEnv, startRun, starts, startValues, stopRun, waitForStarts, waitUntil, workspace, type Workspace } from './openbao/workspace.js';

// `auth: { method: jwt }` against OpenBao's own jwt auth method, through the
// built CLI. OpenBao checks the JWTs with the public key of an issuer the test
// makes (jwt_validation_pubkeys), as it would a Kubernetes cluster's or a CI
// system's; the JWT file is rotated the way the kubelet rotates a projected
// service-account token (a new file renamed over the old).

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const AUDIENCE = 'secretvisor-test';
const SUBJECT = 'system:serviceaccount:apps:worker';

describeReal('OpenBao jwt auth', BAO_NEEDS, () => {
  let bao: BaoServer;
  const issuer = new JwtIssuer('https://issuer.secretvisor.test');

  beforeAll(async () => {
    bao = await startDevServer();
    await bao.bao(['auth', 'enable', 'jwt']);
    await bao.bao(['write', 'auth/jwt/config', `bound_issuer=${issuer.issuer}`, `jwt_validation_pubkeys=${issuer.publicKeyPem}`]);
    await bao.bao(['policy', 'write', 'read-app', '-'], { input: 'path "secret/data/app/*" { capabilities = ["read"] }\n' });
    // A short TTL and max TTL: the test sees renewals, then the login the max TTL forces.
    await bao.bao([
      'write',
      'auth/jwt/role/worker',
      'role_type=jwt',
      `bound_audiences=${AUDIENCE}`,
      `bound_subject=${SUBJECT}`,
      'user_claim=sub',
      'token_policies=read-app',
      'token_ttl=4s',
      'token_max_ttl=16s',
    ]);
  }, 60_000);

  afterAll(async () => {
    await bao?.destroy();
  });

  let counter = 0;
  async function putSecret(values: Record<string, string>): Promise<string> {
    counter += 1;
    await bao.bao(['kv', 'put', `secret/app/jwt${counter}`, ...Object.entries(values).map(([key, value]) => `${key}=${value}`)]);
    return `secret/data/app/jwt${counter}`;
  }

  const jwtSource = (path: string): string => `  core:\n    type: vault\n    address: ${bao.address}\n    path: ${path}\n    auth:\n      method: jwt\n      role: worker\n      jwtFile: ./token`;

  const goodJwt = (lifetimeS = 3_600): string => issuer.sign({ sub: SUBJECT, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + lifetimeS });

  /** Replaces the token file as the kubelet does: a new file renamed over the old one. */
  function rotateJwt(ws: Workspace, jwt: string): void {
    const next = join(ws.dir, '.token.next');
    writeSecretFile(next, jwt);
    renameSync(next, join(ws.dir, 'token'));
  }

  /** The audit device's HMAC of `value`: how the audit log records a JWT sent to a login. */
  async function auditHash(value: string): Promise<string> {
    return (await bao.bao(['write', '-field=hash', 'sys/audit-hash/file', `input=${value}`])).trim();
  }

  /** The (hashed) JWTs of every successful jwt login so far, in order. */
  function loginJwts(): string[] {
    return bao.audit
      .responses()
      .filter((entry) => entry.request.path === 'auth/jwt/login' && (entry.error ?? '') === '')
      .map((entry) => String(entry.request.data?.jwt));
  }

  it('logs in with the JWT file, gives the child the secret, renews the token, and sends the rotated JWT at the next login', async () => {
    const value = randomSecret('value');
    const ws = workspace(jwtSource(await putSecret({ VALUE: value })));
    const first = goodJwt();
    writeSecretFile(join(ws.dir, 'token'), `${first}\n`);
    const loginsBefore = loginJwts().length;
    const renewalsBefore = bao.audit.count({ path: 'auth/token/renew-self', failed: false });
    const cli = startRun(ws, cliEnv(ws, ['VALUE', 'VAULT_TOKEN']));
    await waitForStarts(cli, ws, 1);
    expect(startValues(ws)).toEqual([{ VALUE: value, VAULT_TOKEN: null }]);
    expect(loginJwts().slice(loginsBefore)).toEqual([await auditHash(first)]);

    await waitUntil(() => bao.audit.count({ path: 'auth/token/renew-self', failed: false }) > renewalsBefore, 'a renewal of the jwt-issued token', 45_000, cli);

    const rotated = goodJwt();
    rotateJwt(ws, rotated);
    const rotatedHash = await auditHash(rotated);
    // The max TTL ends the first token's renewals; the login after it must read the file again.
    await waitUntil(() => loginJwts().slice(loginsBefore).includes(rotatedHash), 'a login with the rotated JWT', 60_000, cli);
    expect(loginJwts().slice(loginsBefore)[0]).toBe(await auditHash(first));
    expect(logText(cli.stderr)).toContain('authenticated to Vault');
    // A new token is no reason to restart the child: its KV secret did not change.
    expect(starts(ws)).toBe(1);
    expect(await stopRun(cli)).toBe(0);
  });

  it('an expired JWT: run exits 77 at start-up naming the source and the jwt login, without starting the child', async () => {
    const ws = workspace(jwtSource(await putSecret({ VALUE: randomSecret('value') })), { startupTimeout: '30s' });
    const longAgo = Math.floor(Date.now() / 1000) - 3_600;
    // Past OpenBao's leeways (expiration 150 s, clock skew 60 s): expired beyond doubt.
    writeSecretFile(join(ws.dir, 'token'), issuer.sign({ sub: SUBJECT, aud: AUDIENCE, iat: longAgo - 600, nbf: longAgo - 600, exp: longAgo }));
    const started = Date.now();
    const result = await runCli(['run', '-c', ws.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: ws.dir, env: cliEnv(ws, ['VALUE']) });
    expect(result.code, result.stderr).toBe(77);
    // Fail fast: well before the 30 s start-up timeout a retrying source would wait out.
    expect(Date.now() - started).toBeLessThan(25_000);
    const text = logText(result.stderr);
    expect(text).toContain('vault source "core": Vault refused the jwt login at auth/jwt/login: 400');
    expect(text).toMatch(/expired/i);
    expect(text).toContain('jwtFile holds a current JWT');
    expect(starts(ws)).toBe(0);
  });

  it('a JWT for another audience: check exits 77 naming the jwt login and the audience', async () => {
    const ws = workspace(jwtSource(await putSecret({ VALUE: randomSecret('value') })), { startupTimeout: '30s' });
    writeSecretFile(join(ws.dir, 'token'), issuer.sign({ sub: SUBJECT, aud: 'someone-else', exp: Math.floor(Date.now() / 1000) + 600 }));
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, []) });
    expect(result.code, result.stderr).toBe(77);
    expect(logText(result.stderr)).toContain('Vault refused the jwt login at auth/jwt/login: 400');
    expect(logText(result.stderr)).toMatch(/aud/i);
  });

  it('audit checks the jwt file like a secret: a world-readable one is a finding; a private one is used to log in and read', async () => {
    const ws = workspace(jwtSource(await putSecret({ VALUE: randomSecret('value') })));
    const token = writeSecretFile(join(ws.dir, 'token'), goodJwt());
    const env = baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' });
    const good = await runCli(['audit', '-c', ws.config, '--format', 'json'], { cwd: ws.dir, env });
    expect(good.code, good.stderr).toBe(0);
    const report = JSON.parse(good.stdout) as { items: { source: string; updatedAt: string | null }[]; findings: unknown[] };
    expect(report.findings).toEqual([]);
    expect(report.items).toEqual([expect.objectContaining({ source: 'core', updatedAt: expect.any(String) })]);

    chmodSync(token, 0o644);
    const loose = await runCli(['audit', '-c', ws.config, '--format', 'json'], { cwd: ws.dir, env });
    expect(loose.code).not.toBe(0);
    const findings = (JSON.parse(loose.stdout) as { findings: { kind: string; source: string; path: string }[] }).findings;
    expect(findings).toEqual([expect.objectContaining({ kind: 'permission', source: 'core', path: token })]);
  });

  it('a missing jwtFile key is a config error naming it (exit 78)', async () => {
    const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: secret/data/app/x\n    auth:\n      method: jwt\n      role: worker`);
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, []) });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('sources.core.auth.jwtFile is required');
  });
});
