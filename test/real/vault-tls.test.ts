import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { randomSecret, trackSecret } from '../helpers/secrets.js';
import { describeReal } from './tools/require-tool.js';
import { BAO_NEEDS, startDevServer, type BaoServer } from './openbao/bao-server.js';
import { makeTestPki, type TestPki } from './openbao/test-ca.js';
import { cliEnv, workspace } from './openbao/workspace.js';

// OpenBao serving HTTPS with a certificate from a CA the test made: trusted
// through caCert and through VAULT_CACERT; refused, with exit 69 naming the
// certificate problem, when secretvisor trusts another CA or none.

// A real server on a shared, loaded machine: generous limits; every wait is on an event.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

describeReal('OpenBao over TLS', BAO_NEEDS, () => {
  let bao: BaoServer;
  let pki: TestPki;
  let pkiDir: string;
  let token: string;
  const value = randomSecret('value');

  beforeAll(async () => {
    pkiDir = mkdtempSync(join(tmpdir(), 'sv-bao-pki-'));
    pki = makeTestPki(pkiDir);
    bao = await startDevServer({ tls: { certFile: pki.certFile, keyFile: pki.keyFile }, caFile: pki.caFile });
    await bao.bao(['secrets', 'enable', '-path=secret', 'kv-v2']);
    await bao.bao(['kv', 'put', 'secret/app', `VALUE=${value}`]);
    await bao.bao(['policy', 'write', 'app', '-'], { input: 'path "secret/data/*" { capabilities = ["read"] }\n' });
    token = trackSecret((await bao.bao(['token', 'create', '-policy=app', '-field=token'])).trim());
  }, 120_000);

  afterAll(async () => {
    await bao?.destroy();
    if (pkiDir !== undefined) rmSync(pkiDir, { recursive: true, force: true });
  });

  it('trusts the server through caCert', async () => {
    const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    caCert: ${pki.caFile}\n    path: secret/data/app`);
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/VALUE\s+core/);
  });

  it('trusts the server through VAULT_CACERT, with the address from VAULT_ADDR', async () => {
    const ws = workspace('  core:\n    type: vault\n    path: secret/data/app');
    const env = cliEnv(ws, [], { VAULT_TOKEN: token, VAULT_ADDR: bao.address, VAULT_CACERT: pki.caFile });
    const result = await runCli(['env', '-c', ws.config, '--reveal', '--format', 'json'], { cwd: ws.dir, env, allowSecretsOnStdout: true });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ VALUE: value });
  });

  it.each([
    ['another CA', (): string | undefined => pki.otherCaFile],
    ['no CA (the system roots)', (): string | undefined => undefined],
  ])('refuses a server certificate that %s does not vouch for: exit 69 naming the certificate error and caCert', async (_name, choose) => {
    const caCert = choose();
    const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n${caCert === undefined ? '' : `    caCert: ${caCert}\n`}    path: secret/data/app`, {
      startupTimeout: '2s',
    });
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code).toBe(69);
    const text = logText(result.stderr);
    expect(text).toMatch(/(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|unable to verify the first certificate)/);
    expect(text).toContain('caCert or VAULT_CACERT');
  });
});
