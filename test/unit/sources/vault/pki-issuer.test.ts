import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, PermissionError, SecretDataError, SourceUnavailableError } from '../../../../src/errors.js';
import { CertificateIssuer } from '../../../../src/sources/vault/pki-issuer.js';
import type { VaultCall } from '../../../../src/sources/vault/vault-http.js';
import { tempDir } from '../../../helpers/tmp.js';
import { trackSecret } from '../../../helpers/secrets.js';
import { vaultAuth } from '../../../servers/vault/fixtures.js';
import { captureLog } from '../../../helpers/log-capture.js';
import { sourceCommon } from '../../../helpers/source-config.js';
import { createVaultSource } from '../../../../src/sources/vault/vault-source.js';
import { createSessionRegistry } from '../../../../src/sources/vault/session-registry.js';
import { fakeHttp, pinnedClock, quietLog, vaultError } from './fake-vault.js';

const DAY = 86_400_000;

interface Pem {
  readonly certificate: string;
  readonly privateKey: string;
}

/** A self-signed certificate of `days` made with openssl, and its key. */
function makeCertificate(days: number): Pem {
  const dir = tempDir('sv-pki-unit-');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      String(days),
      '-subj',
      '/CN=api.example.test',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { certificate: readFileSync(join(dir, 'cert.pem'), 'utf8'), privateKey: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

const PKI = { mount: 'pki', role: 'web', commonName: 'api.example.test', altNames: ['www.example.test'], ipSans: ['10.0.0.5'], ttlSeconds: 7_776_000, renewBeforeMs: 60_000 };

function makeIssuer(onDue = vi.fn(), log = quietLog): { issuer: CertificateIssuer; onDue: typeof onDue } {
  const issuer = new CertificateIssuer({ pki: PKI, path: 'pki/issue/web', address: 'http://vault:8200', what: 'vault source "tls"', clock: pinnedClock(0), log, onDue });
  return { issuer, onDue };
}

const answer = (pem: Pem, chain: string[] = [pem.certificate]) => ({ data: { certificate: pem.certificate, private_key: pem.privateKey, ca_chain: chain, issuing_ca: chain[0] } });

describe('CertificateIssuer', () => {
  let ninetyDays: Pem;
  let other: Pem;

  beforeAll(() => {
    ninetyDays = makeCertificate(90);
    other = makeCertificate(1);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks for the configured names and ttl, and yields the four PEM keys', async () => {
    const calls: VaultCall[] = [];
    const { issuer } = makeIssuer();
    const snapshot = await issuer.issue(async (call) => (calls.push(call), answer(ninetyDays)), new AbortController().signal);
    expect(calls).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: 'pki/issue/web',
        publicBody: true,
        body: { common_name: 'api.example.test', alt_names: 'www.example.test', ip_sans: '10.0.0.5', ttl: '7776000s' },
      }),
    ]);
    expect([...snapshot.entries.keys()]).toEqual(['TLS_CERT', 'TLS_KEY', 'TLS_CA', 'TLS_FULLCHAIN']);
    expect(snapshot.entries.get('TLS_FULLCHAIN')?.reveal()).toBe(`${ninetyDays.certificate}${ninetyDays.certificate}`);
    expect(snapshot.version).toMatch(/^pki:[0-9a-f:]+$/);
    expect(issuer.notAfter?.getTime()).toBeGreaterThan(Date.now() + 89 * DAY);
    expect(issuer.current).toBe(snapshot);
  });

  it('a 90-day certificate is due at 60 days, not when the 24.8-day timer limit would fire', async () => {
    vi.useFakeTimers({ now: Date.now() });
    const { issuer, onDue } = makeIssuer();
    await issuer.issue(async () => answer(ninetyDays), new AbortController().signal);
    await vi.advanceTimersByTimeAsync(59 * DAY);
    expect(onDue).not.toHaveBeenCalled();
    expect(issuer.current).toBeDefined();
    await vi.advanceTimersByTimeAsync(2 * DAY);
    expect(onDue).toHaveBeenCalledTimes(1);
    expect(issuer.current).toBeUndefined();
    issuer.stop();
  });

  it('refuses a private key that does not belong to the certificate', async () => {
    const { issuer } = makeIssuer();
    const mixed = { data: { certificate: ninetyDays.certificate, private_key: other.privateKey } };
    const failure = issuer.issue(async () => mixed, new AbortController().signal);
    await expect(failure).rejects.toThrow(SecretDataError);
    await expect(failure).rejects.toThrow(/the private key Vault issued at pki\/issue\/web does not belong to its certificate/);
  });

  it('refuses an answer without a certificate (a mount that is not a PKI engine)', async () => {
    const { issuer } = makeIssuer();
    await expect(issuer.issue(async () => ({ data: { value: 'x' } }), new AbortController().signal)).rejects.toThrow(/holds no certificate and private key/);
  });

  it.each([
    [400, 'unknown role: web', ConfigError, /Vault refused to issue a certificate at pki\/issue\/web \(http:\/\/vault:8200\): 400 unknown role: web/],
    [403, 'permission denied', PermissionError, /issue a certificate at pki\/issue\/web at http:\/\/vault:8200 failed: 403 permission denied/],
    [503, 'Vault is sealed', SourceUnavailableError, /503 Vault is sealed/],
  ] as const)('a %s from Vault becomes %s', async (status, reason, type, message) => {
    const { issuer } = makeIssuer();
    const failure = issuer.issue(async () => Promise.reject(vaultError(status, reason)), new AbortController().signal);
    await expect(failure).rejects.toThrow(type);
    await expect(failure).rejects.toThrow(message);
  });

  it('a failed re-issue keeps the certificate held and its notAfter', async () => {
    const { issuer } = makeIssuer();
    await issuer.issue(async () => answer(ninetyDays), new AbortController().signal);
    const notAfter = issuer.notAfter;
    await expect(issuer.issue(async () => Promise.reject(vaultError(undefined, 'ECONNREFUSED')), new AbortController().signal)).rejects.toThrow(SourceUnavailableError);
    expect(issuer.notAfter).toEqual(notAfter);
  });

  it('a failed re-issue logs the time left: a warning, an error within renewBefore, "expired" after notAfter; never the key', async () => {
    vi.useFakeTimers({ now: Date.now() });
    const capture = captureLog();
    const { issuer } = makeIssuer(vi.fn(), capture.log);
    for (const line of ninetyDays.privateKey.split('\n')) if (!line.startsWith('-----') && line.length >= 16) trackSecret(line);
    await issuer.issue(async () => answer(ninetyDays), new AbortController().signal);
    const notAfter = (issuer.notAfter as Date).getTime();
    const down = async () => issuer.issue(async () => Promise.reject(vaultError(undefined, 'connect ECONNREFUSED 127.0.0.1:8200')), new AbortController().signal).catch(() => undefined);
    vi.setSystemTime(notAfter - 3_600_000);
    await down();
    vi.setSystemTime(notAfter - 30_000);
    await down();
    vi.setSystemTime(notAfter + 1_000);
    await down();
    const failures = capture.entries().filter((line) => typeof line.secondsLeft === 'number');
    expect(failures.map((line) => [line.level, line.secondsLeft])).toEqual([
      [40, 3_600],
      [50, 30],
      [50, 0],
    ]);
    expect(failures[0]?.msg).toBe('could not re-issue the certificate (connect ECONNREFUSED 127.0.0.1:8200); keeping the one in place, 3600s left');
    expect(failures[1]?.msg).toMatch(/the one in place expires in 30s$/);
    expect(failures[2]?.msg).toMatch(/the one in place expired at \d{4}-/);
    capture.expectNoLeak('the issuer log');
    issuer.stop();
  });
});

describe('a vault source with pki', () => {
  it('issues once, answers from memory until due, and tells leaseExpiresAt the certificate notAfter', async () => {
    const pem = makeCertificate(90);
    const http = fakeHttp({
      'auth/token/lookup-self': () => ({ data: { ttl: 0, renewable: false } }),
      'pki/issue/web': () => answer(pem),
    });
    const source = createVaultSource(
      {
        config: {
          ...sourceCommon('tls', { asEnv: false }),
          type: 'vault',
          address: 'http://vault:8200',
          namespace: undefined,
          caCert: undefined,
          auth: vaultAuth({ method: 'token' }),
          path: 'pki/issue/web',
          pki: PKI,
          revokeOnExit: false,
          timeoutMs: 2_000,
          redirectOrigins: new Set(),
          maxResponseBytes: 1024 * 1024,
        },
        log: quietLog,
        clock: pinnedClock(0),
        env: { VAULT_TOKEN: 'unit-test-token' },
        service: undefined,
        pool: undefined,
      },
      { createClient: async () => http, sessions: createSessionRegistry() },
    );
    try {
      expect(source.leaseExpiresAt?.()).toBeUndefined();
      const first = await source.read(new AbortController().signal);
      const second = await source.read(new AbortController().signal);
      expect(second).toBe(first);
      expect(http.calls.filter((call) => call.path === 'pki/issue/web')).toHaveLength(1);
      expect(source.leaseExpiresAt?.()).toBeGreaterThan(Date.now() + 89 * 86_400_000);
    } finally {
      await source.close();
    }
  });
});
