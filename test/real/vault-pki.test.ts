import { X509Certificate, createPrivateKey } from 'node:crypto';
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { baseEnv, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { logEntries, logText } from '../helpers/log-capture.js';
import { tempDir } from '../helpers/tmp.js';
import { readRecords } from '../helpers/project.js';
import { trackSecret } from '../helpers/secrets.js';
import { describeReal } from './tools/require-tool.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { freePort } from './openbao/process-tools.js';
import { BAO_NEEDS, startFileServer, type FileBaoServer } from './openbao/bao-server.js';
import { cliEnv, startRun, starts, stopRun, waitForStarts, waitUntil, workspace, type Workspace } from './openbao/workspace.js';

// Certificates from a real OpenBao's PKI secrets engine (a root CA of the
// suite, roles with a max TTL of a minute or less): delivered as files at
// 0400, re-issued before they expire with SIGHUP to the same child, kept
// through an outage (the server stopped) while the time left is logged, and
// a role Vault refuses fails at once. Raft storage, so the server can be
// stopped and started again with its CA.

// A real server on a shared, loaded machine: generous limits; every wait is on an event.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

const POLICY = [
  'path "pki/issue/*" { capabilities = ["create", "update"] }',
  'path "pki/issue/other" { capabilities = ["deny"] }',
  'path "notpki/issue/*" { capabilities = ["create", "update"] }',
].join('\n');

describeReal('OpenBao PKI certificates', BAO_NEEDS, () => {
  let bao: FileBaoServer;
  let token: string;
  let rootPem: string;

  beforeAll(async () => {
    bao = await startFileServer();
    await bao.initAndUnseal();
    await bao.bao(['secrets', 'enable', 'pki']);
    await bao.bao(['secrets', 'tune', '-max-lease-ttl=24h', 'pki']);
    const root = await bao.baoJson<{ data: { certificate: string } }>(['write', 'pki/root/generate/internal', 'common_name=secretvisor test root', 'ttl=24h']);
    rootPem = root.data.certificate;
    await bao.bao(['write', 'pki/roles/app', 'allowed_domains=example.test', 'allow_subdomains=true', 'max_ttl=90s']);
    await bao.bao(['write', 'pki/roles/narrow', 'allowed_domains=other.test', 'allow_subdomains=true', 'max_ttl=90s']);
    await bao.bao(['secrets', 'enable', '-path=notpki', 'kv']);
    await bao.bao(['policy', 'write', 'tls', '-'], { input: `${POLICY}\n` });
    token = trackSecret((await bao.bao(['token', 'create', '-policy=tls', '-ttl=1h', '-field=token'])).trim());
  }, 120_000);

  afterAll(async () => {
    await bao?.destroy();
  });

  const pkiSource = (options: { role?: string; ttl?: string; renewBefore?: string; mount?: string } = {}) =>
    `  tls:\n    type: vault\n    address: ${bao.address}\n    timeout: 2s\n    pki:\n      mount: ${options.mount ?? 'pki'}\n      role: ${options.role ?? 'app'}\n` +
    `      commonName: api.example.test\n      altNames: [www.example.test]\n      ipSans: [127.0.0.1]\n` +
    `      ttl: ${options.ttl ?? '45s'}\n      renewBefore: ${options.renewBefore ?? '12s'}\n`;

  const FILES =
    'files:\n' +
    '  - path: tls/cert.pem\n    template: "{{secret.TLS_CERT}}"\n    env: CERT_FILE\n' +
    '  - path: tls/key.pem\n    template: "{{secret.TLS_KEY}}"\n    env: KEY_FILE\n' +
    '  - path: tls/ca.pem\n    template: "{{secret.TLS_CA}}"\n    env: CA_FILE\n';

  interface Files {
    readonly cert: string;
    readonly key: string;
    readonly ca: string;
  }

  /** The file paths the child was given (record-env records them). */
  function filePaths(ws: Workspace): Files {
    const start = readRecords(ws.records).find((record) => record.event === 'start');
    const values = start?.values ?? {};
    return { cert: values.CERT_FILE as string, key: values.KEY_FILE as string, ca: values.CA_FILE as string };
  }

  /** The certificate in the files now, after checking it against its key and the CA; its private key is tracked by the leak check. */
  function readIssued(files: Files): X509Certificate {
    const cert = new X509Certificate(readFileSync(files.cert));
    const keyPem = readFileSync(files.key, 'utf8');
    for (const line of keyPem.split('\n')) if (!line.startsWith('-----') && line.length >= 16) trackSecret(line);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(cert.checkIssued(new X509Certificate(readFileSync(files.ca)))).toBe(true);
    return cert;
  }

  const signals = (ws: Workspace) => readRecords(ws.records).filter((record) => record.event === 'signal');
  const serialIn = (files: Files) => (existsSync(files.cert) ? new X509Certificate(readFileSync(files.cert)).serialNumber : undefined);

  async function supervise(options: Parameters<typeof pkiSource>[0] = {}): Promise<{ ws: Workspace; cli: RunningCli; files: Files; first: X509Certificate }> {
    const ws = workspace(pkiSource(options), { extra: FILES });
    const cli = startRun(ws, cliEnv(ws, ['CERT_FILE', 'KEY_FILE', 'CA_FILE', 'TLS_CERT', 'TLS_KEY'], { VAULT_TOKEN: token }));
    await waitForStarts(cli, ws, 1);
    const files = filePaths(ws);
    return { ws, cli, files, first: readIssued(files) };
  }

  it('issues a certificate into files at 0400 that parse, match their key and chain to the root; re-issued with SIGHUP, same child', async () => {
    const { ws, cli, files, first } = await supervise();
    for (const path of [files.cert, files.key, files.ca]) expect(statSync(path).mode & 0o777).toBe(0o400);
    expect(first.subject).toContain('CN=api.example.test');
    expect(first.subjectAltName).toContain('DNS:www.example.test');
    expect(first.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(first.checkIssued(new X509Certificate(rootPem))).toBe(true);
    const lifetimeMs = Date.parse(first.validTo) - Date.parse(first.validFrom);
    expect(lifetimeMs).toBeLessThanOrEqual(45_000 + 60_000);
    // Not in the environment: a pki source's keys are for files (asEnv defaults to false).
    const start = readRecords(ws.records)[0];
    expect(start?.values.TLS_CERT).toBeNull();
    expect(start?.values.TLS_KEY).toBeNull();

    // The files are written one after the other, then the signal: only after it do they hold one pair.
    await waitUntil(() => signals(ws).length >= 1, 'SIGHUP to the child after the re-issue', 90_000, cli);
    const renewedAt = Date.now();
    expect(signals(ws)[0]?.signal).toBe('SIGHUP');
    const second = readIssued(files);
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(renewedAt).toBeLessThan(Date.parse(first.validTo));
    expect(starts(ws)).toBe(1);
    expect(new Set(readRecords(ws.records).map((record) => record.pid)).size).toBe(1);
    expect(Date.parse(second.validTo)).toBeGreaterThan(Date.parse(first.validTo));
    for (const path of [files.cert, files.key, files.ca]) expect(statSync(path).mode & 0o777).toBe(0o400);

    const issued = logEntries(cli.stderr).filter((entry) => entry.msg === 'Vault issued a certificate');
    expect(issued.length).toBeGreaterThanOrEqual(2);
    expect(typeof issued[0]?.renewInSeconds).toBe('number');
    // At about 2/3 of the 45 s lifetime, and no later than 12 s before notAfter.
    expect(issued[0]?.renewInSeconds as number).toBeLessThanOrEqual(33);
    expect(await stopRun(cli)).toBe(0);
  });

  it('shows the time left on the certificate in the metrics and /status', async () => {
    const port = await freePort();
    const ws = workspace(pkiSource({ ttl: '60s', renewBefore: '15s' }), { extra: `${FILES}metrics: { listen: "127.0.0.1:${port}" }\n` });
    const cli = startRun(ws, cliEnv(ws, ['CERT_FILE', 'KEY_FILE', 'CA_FILE', 'TLS_CERT', 'TLS_KEY'], { VAULT_TOKEN: token }));
    await waitForStarts(cli, ws, 1);
    const cert = readIssued(filePaths(ws));
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const expectedLeft = (Date.parse(cert.validTo) - Date.now()) / 1000;
    const left = sampleValue(parseExposition(body), 'secretvisor_source_lease_remaining_seconds', { source: 'tls' }) as number;
    expect(left).toBeGreaterThan(0);
    expect(Math.abs(left - expectedLeft)).toBeLessThanOrEqual(5);
    const status = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/status`)).text()) as { sources: { name: string; leaseSecondsLeft: number | null }[] };
    expect(status.sources.find((source) => source.name === 'tls')?.leaseSecondsLeft).toBeGreaterThan(0);
    expect(await stopRun(cli)).toBe(0);
  });

  it('with asEnv: true and keys: renaming, the certificate is in the environment and a re-issue restarts the child once', async () => {
    const ws = workspace(`${pkiSource({ ttl: '30s', renewBefore: '8s' })}    asEnv: true\n    keys: { WEB_CERT: TLS_CERT }\n`);
    const cli = startRun(ws, cliEnv(ws, ['WEB_CERT', 'TLS_CERT', 'TLS_KEY'], { VAULT_TOKEN: token }));
    await waitForStarts(cli, ws, 1);
    await waitForStarts(cli, ws, 2, 'the restart with the re-issued certificate', 90_000);
    const [first, second] = readRecords(ws.records).filter((record) => record.event === 'start');
    const firstCert = new X509Certificate(first?.values.WEB_CERT as string);
    expect(firstCert.subject).toContain('CN=api.example.test');
    expect(new X509Certificate(second?.values.WEB_CERT as string).serialNumber).not.toBe(firstCert.serialNumber);
    expect(first?.values.TLS_CERT).toBeNull();
    expect(first?.values.TLS_KEY).toBeNull();
    expect(signals(ws)).toHaveLength(0);
    expect(await stopRun(cli)).toBe(0);
  });

  it('an outage during renewal keeps the old certificate and logs the time left; once the server is back, re-issued with SIGHUP', async () => {
    const { ws, cli, files, first } = await supervise({ ttl: '60s', renewBefore: '15s' });
    await bao.stop();
    try {
      await cli.waitFor((run) => run.stderr.includes('could not re-issue the certificate'), 'a failed re-issue while the server is stopped', 90_000);
      await cli.waitFor((run) => logEntries(run.stderr).filter((entry) => typeof entry.secondsLeft === 'number').length >= 2, 'two failed re-issues, each with the time left', 60_000);
    } finally {
      await bao.restart();
    }
    const failed = logEntries(cli.stderr).filter((entry) => typeof entry.secondsLeft === 'number');
    for (const entry of failed) {
      expect(entry.secondsLeft as number).toBeLessThan(60);
      expect(entry.serial).toMatch(/^[0-9a-f:]+$/);
    }
    expect(logText(cli.stderr)).toContain('ECONNREFUSED');
    expect(logText(cli.stderr)).toMatch(/could not re-issue the certificate .*(\d+s left|expires in \d+s)/);
    expect(serialIn(files)).toBe(first.serialNumber);
    expect(signals(ws)).toHaveLength(0);

    await waitUntil(() => signals(ws).length >= 1, 'SIGHUP after the certificate was re-issued after the outage', 90_000, cli);
    expect(readIssued(files).serialNumber).not.toBe(first.serialNumber);
    expect(starts(ws)).toBe(1);
    expect(await stopRun(cli)).toBe(0);
  });

  it.each([
    ['an unknown role', { role: 'nope' }, /Vault refused to issue a certificate at pki\/issue\/nope .*400 .*unknown role/],
    ['a role that does not allow the common name', { role: 'narrow' }, /Vault refused to issue a certificate at pki\/issue\/narrow .*400 .*api\.example\.test/],
  ] as const)('%s', async (_name, options, message) => {
    const ws = workspace(pkiSource(options), { extra: FILES, startupTimeout: '40s' });
    const started = Date.now();
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code).toBe(78);
    expect(Date.now() - started).toBeLessThan(30_000);
    const text = logText(result.stderr);
    expect(text).toMatch(message);
    expect(text).toContain('check pki.role');
    expect(text).not.toContain('not reachable yet');
  });

  it('a policy that does not allow the role: 403, exit 77 at once', async () => {
    const ws = workspace(pkiSource({ role: 'other' }), { extra: FILES, startupTimeout: '40s' });
    await bao.bao(['write', 'pki/roles/other', 'allowed_domains=example.test', 'allow_subdomains=true', 'max_ttl=90s']);
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toMatch(/issue a certificate at pki\/issue\/other .*403/);
  });

  it('a mount that is not a PKI engine (a KV v1 mount): exit 65 naming the path and the fix', async () => {
    const ws = workspace(pkiSource({ mount: 'notpki' }), { extra: FILES });
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code, result.stderr).toBe(65);
    expect(logText(result.stderr)).toContain(`vault source "tls": Vault's answer for notpki/issue/app holds no certificate and private key`);
    expect(logText(result.stderr)).toContain('check that mount names a PKI secrets engine');
  });

  it('a ttl over the role max_ttl is capped by OpenBao, and a renewBefore too long for what was issued gives way to a third: both logged', async () => {
    const ws = workspace(pkiSource({ ttl: '1h', renewBefore: '70s' }), { extra: FILES });
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code, result.stderr).toBe(0);
    const entries = logEntries(result.stderr);
    const capped = entries.find((entry) => typeof entry.msg === 'string' && entry.msg.includes('less than pki.ttl (3600s)'));
    expect(capped?.lifetimeSeconds as number).toBeLessThanOrEqual(90);
    expect(entries.some((entry) => typeof entry.msg === 'string' && entry.msg.includes('pki.renewBefore (70s) leaves less than a third'))).toBe(true);
    const issued = entries.find((entry) => entry.msg === 'Vault issued a certificate');
    expect(issued?.renewInSeconds as number).toBeLessThanOrEqual(31);
  });

  describe('files rendered from the certificate', () => {
    it('TLS_FULLCHAIN is the certificate followed by the CA chain', async () => {
      const ws = workspace(pkiSource(), {
        extra: 'files:\n  - path: tls/full.pem\n    template: "{{secret.TLS_FULLCHAIN}}"\n    env: FULL_FILE\n  - path: tls/key.pem\n    template: "{{secret.TLS_KEY}}"\n    env: KEY_FILE\n',
      });
      const cli = startRun(ws, cliEnv(ws, ['FULL_FILE', 'KEY_FILE'], { VAULT_TOKEN: token }));
      await waitForStarts(cli, ws, 1);
      const values = readRecords(ws.records)[0]?.values ?? {};
      const full = readFileSync(values.FULL_FILE as string, 'utf8');
      for (const line of readFileSync(values.KEY_FILE as string, 'utf8').split('\n')) if (!line.startsWith('-----') && line.length >= 16) trackSecret(line);
      const blocks = full.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
      expect(blocks).toHaveLength(2);
      expect(new X509Certificate(blocks[0] as string).subject).toContain('CN=api.example.test');
      expect(new X509Certificate(blocks[1] as string).subject).toContain('CN=secretvisor test root');
      expect(await stopRun(cli)).toBe(0);
    });
  });

  describe('examples/vault-pki-tls', () => {
    const EXAMPLE = fileURLToPath(new URL('../../examples/vault-pki-tls/', import.meta.url));

    /** The certificate the server presents and its answer, over TLS trusting only the suite's root CA. */
    function fetchFrom(port: number): Promise<{ serial: string; body: string }> {
      return new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca: rootPem, servername: 'localhost' }, () => {
          const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
          let body = '';
          socket.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          socket.on('end', () => resolve({ serial, body }));
          socket.end('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
        });
        socket.on('error', reject);
      });
    }

    it('the server presents a certificate that rotates with no restart (ttl cut to 30s)', async () => {
      await bao.bao(['write', 'pki/roles/web', 'allowed_domains=localhost', 'allow_bare_domains=true', 'max_ttl=90s']);
      const dir = join(tempDir('sv-example-pki-'), 'vault-pki-tls');
      cpSync(EXAMPLE, dir, { recursive: true });
      const config = join(dir, 'secretvisor.yaml');
      const shipped = readFileSync(config, 'utf8');
      expect(shipped).toContain('ttl: 3m');
      writeFileSync(config, shipped.replace('ttl: 3m', 'ttl: 30s').replace('renewBefore: 30s', 'renewBefore: 8s'));
      const cli = startCli(['run', '-c', config, '--', process.execPath, join(dir, 'server.mjs')], {
        cwd: dir,
        env: baseEnv({ VAULT_ADDR: bao.address, VAULT_TOKEN: token, PORT: '0', SECRETVISOR_LOG_FORMAT: 'json' }),
      });
      try {
        await cli.waitFor((run) => /listening on https:\/\/127\.0\.0\.1:\d+/.test(run.stdout), 'the server to listen', 45_000);
        const port = Number(/listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(cli.stdout)?.[1]);
        const first = await fetchFrom(port);
        const pid = /hello from pid (\d+)/.exec(first.body)?.[1];
        expect(pid).toMatch(/^\d+$/);
        await cli.waitFor((run) => run.stdout.includes('reloaded the certificate'), 'the server to reload a re-issued certificate', 90_000);
        const second = await fetchFrom(port);
        expect(second.serial).not.toBe(first.serial);
        expect(second.body).toContain(`hello from pid ${pid}`);
        expect(logText(cli.stderr)).not.toContain('restarting');
        cli.kill('SIGTERM');
        expect((await cli.exited()).code).toBe(0);
      } finally {
        await cli.discard();
      }
    });
  });
});
