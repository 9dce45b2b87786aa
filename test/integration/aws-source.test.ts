import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sourceCommon } from '../helpers/source-config.js';
import type { AwsSourceConfig } from '../../src/config/config.js';
import { PermissionError, SecretDataError, SecretvisorError, SourceUnavailableError, describeError } from '../../src/errors.js';
import { systemClock } from '../../src/clock.js';
import { createAwsSource } from '../../src/sources/aws/aws-source.js';
import type { SecretSource, Snapshot } from '../../src/sources/source.js';
import { captureLog } from '../helpers/log-capture.js';
import { pollUntil } from '../helpers/poll-until.js';
import { expectNoLeak, randomSecret } from '../helpers/secrets.js';
import { startAwsServer, type AwsFaultKind, type AwsServer } from '../servers/aws-server.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';

const HOST_KEY_ID = randomSecret('AKIAHOST');
const HOST_SECRET_KEY = randomSecret('host-secret-key');
const FINANCE_ROLE = 'arn:aws:iam::123456789012:role/noxus-finance';
const FINANCE_EXTERNAL_ID = randomSecret('external-id');
const LEGAL_ROLE = 'arn:aws:iam::123456789012:role/noxus-legal';

let server: AwsServer;
let capture = captureLog();
const opened: SecretSource[] = [];
const savedEnv = { ...process.env };

function awsConfig(overrides: Partial<AwsSourceConfig> = {}): AwsSourceConfig {
  return {
    ...sourceCommon('platform', { refreshMs: 60_000 }),
    type: 'aws-secrets-manager',
    region: 'eu-central-1',
    secretId: 'noxus/global',
    versionStage: 'AWSCURRENT',
    key: undefined,
    endpoint: server.endpoint,
    roleArn: undefined,
    externalId: undefined,
    maxResponseBytes: 1024 * 1024,
    ...overrides,
  };
}

function open(overrides: Partial<AwsSourceConfig> = {}, context: { service?: string; pool?: string } = {}): SecretSource {
  const source = createAwsSource({
    config: awsConfig(overrides),
    log: capture.log,
    clock: systemClock,
    env: process.env,
    service: context.service ?? 'worker',
    pool: context.pool,
  });
  opened.push(source);
  return source;
}

function revealAll(snapshot: Snapshot): Record<string, string> {
  return Object.fromEntries([...snapshot.entries].map(([name, value]) => [name, value.reveal()]));
}

async function readError(source: SecretSource): Promise<SecretvisorError> {
  const error: unknown = await source.read(new AbortController().signal).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SecretvisorError);
  const text = describeError(error);
  expectNoLeak(text, 'error message');
  expect(text).not.toContain(FINANCE_EXTERNAL_ID);
  return error as SecretvisorError;
}

const read = (source: SecretSource): Promise<Snapshot> => source.read(new AbortController().signal);

beforeAll(async () => {
  server = await startAwsServer({
    users: [
      {
        name: 'fleet-host',
        accessKeyId: HOST_KEY_ID,
        secretAccessKey: HOST_SECRET_KEY,
        secrets: ['noxus/global', 'noxus/plain', 'noxus/binary', 'noxus/rotating', 'noxus/does-not-exist'],
      },
    ],
    roles: [
      { arn: FINANCE_ROLE, externalId: FINANCE_EXTERNAL_ID, secrets: ['noxus/pools/finance'] },
      { arn: LEGAL_ROLE, secrets: ['noxus/pools/legal'] },
    ],
  });
  Object.assign(process.env, awsSdkEnv({ accessKeyId: HOST_KEY_ID, secretAccessKey: HOST_SECRET_KEY, stsEndpoint: server.endpoint }));
});

afterEach(async () => {
  server.faults.clear();
  await Promise.all(opened.splice(0).map((source) => source.close()));
  capture.expectNoLeak('source log');
  capture = captureLog();
});

afterAll(async () => {
  process.env = savedEnv;
  await server.stop();
});

describe('values', () => {
  it('turns a JSON-object SecretString into one key per field, non-strings as JSON', async () => {
    const password = randomSecret('db-password');
    const versionId = server.secrets.put('noxus/global', { DB_USER: 'noxus', DB_PASSWORD: password, PORT: 5432, FLAGS: { a: true } });
    server.requestLog.clear();

    const snapshot = await read(open());

    expect(revealAll(snapshot)).toEqual({ DB_USER: 'noxus', DB_PASSWORD: password, PORT: '5432', FLAGS: '{"a":true}' });
    expect(snapshot.version).toBe(versionId);
    expect(snapshot.updatedAt).toBeInstanceOf(Date);
    expect(server.requestLog.count('DescribeSecret')).toBe(1);
    expect(server.requestLog.count('GetSecretValue')).toBe(1);
    expect(server.requestLog.valuesTransferred()).toBe(1);
  });

  it('passes a plain SecretString under `key`', async () => {
    const token = randomSecret('plain-token');
    server.secrets.put('noxus/plain', token);
    expect(revealAll(await read(open({ secretId: 'noxus/plain', key: 'API_TOKEN' })))).toEqual({ API_TOKEN: token });
  });

  it('refuses a plain SecretString without `key` (exit 65), naming source and secret, never the value', async () => {
    server.secrets.put('noxus/plain', randomSecret('plain-token'));
    const error = await readError(open({ secretId: 'noxus/plain' }));
    expect(error).toBeInstanceOf(SecretDataError);
    expect(error.exitCode).toBe(65);
    expect(error.message).toContain('"platform"');
    expect(error.message).toContain('"noxus/plain"');
    expect(error.hint).toContain('key');
  });

  it('passes a SecretBinary base64-encoded under `key`, and refuses it without `key`', async () => {
    const bytes = Buffer.from(randomSecret('binary'), 'utf8');
    server.secrets.put('noxus/binary', new Uint8Array(bytes));
    expect(revealAll(await read(open({ secretId: 'noxus/binary', key: 'CERT' })))).toEqual({ CERT: bytes.toString('base64') });
    const error = await readError(open({ secretId: 'noxus/binary' }));
    expect(error).toBeInstanceOf(SecretDataError);
    expect(error.message).toContain('SecretBinary');
  });

  it('reads the version holding `versionStage`', async () => {
    const old = randomSecret('old');
    const previousId = server.secrets.put('noxus/rotating', { TOKEN: old });
    server.secrets.put('noxus/rotating', { TOKEN: randomSecret('new') });
    const snapshot = await read(open({ secretId: 'noxus/rotating', versionStage: 'AWSPREVIOUS' }));
    expect(revealAll(snapshot)).toEqual({ TOKEN: old });
    expect(snapshot.version).toBe(previousId);
  });
});

describe('change detection', () => {
  it('answers an unchanged refresh from DescribeSecret alone: no secret value transferred', async () => {
    server.secrets.put('noxus/global', { A: randomSecret('a') });
    const source = open();
    const first = await read(source);
    server.requestLog.clear();

    const again = await read(source);
    const third = await read(source);

    expect(again.version).toBe(first.version);
    expect(third.entries).toBe(first.entries);
    expect(server.requestLog.count('DescribeSecret')).toBe(2);
    expect(server.requestLog.count('GetSecretValue')).toBe(0);
    expect(server.requestLog.valuesTransferred()).toBe(0);
  });

  it('fetches a rotated secret once, pinned to the new VersionId', async () => {
    server.secrets.put('noxus/global', { A: randomSecret('a') });
    const source = open();
    await read(source);
    const rotated = randomSecret('rotated');
    const newVersion = server.secrets.put('noxus/global', { A: rotated });
    server.requestLog.clear();

    const snapshot = await read(source);

    expect(snapshot.version).toBe(newVersion);
    expect(revealAll(snapshot)).toEqual({ A: rotated });
    expect(server.requestLog.count('GetSecretValue')).toBe(1);
    expect(server.requestLog.valuesTransferred()).toBe(1);
  });

  it('follows AWSCURRENT back to an older version on a rollback', async () => {
    const original = randomSecret('original');
    const originalId = server.secrets.put('noxus/global', { A: original });
    const source = open();
    server.secrets.put('noxus/global', { A: randomSecret('faulty') });
    await read(source);

    server.secrets.moveStage('noxus/global', 'AWSCURRENT', originalId);
    const snapshot = await read(source);

    expect(snapshot.version).toBe(originalId);
    expect(revealAll(snapshot)).toEqual({ A: original });
  });

  it('reports a due refresh through watch() and stops on close()', async () => {
    server.secrets.put('noxus/global', { A: randomSecret('a') });
    const source = open({ refreshMs: 30 });
    const reasons: string[] = [];
    await new Promise<void>((resolve) => {
      void source.watch((reason) => {
        reasons.push(reason);
        if (reasons.length === 2) resolve();
      });
    });
    await source.close();
    expect(reasons).toEqual(['refresh', 'refresh']);
  });
});

describe('assume role', () => {
  it('reads a pool secret with the role, its ExternalId and a session name naming secretvisor, service and pool', async () => {
    const bankToken = randomSecret('bank-token');
    server.secrets.put('noxus/pools/finance', { BANK_TOKEN: bankToken });
    server.requestLog.clear();

    const snapshot = await read(open({ secretId: 'noxus/pools/finance', roleArn: FINANCE_ROLE, externalId: FINANCE_EXTERNAL_ID }, { pool: 'finance' }));

    expect(revealAll(snapshot)).toEqual({ BANK_TOKEN: bankToken });
    const assume = server.requestLog.entries.find((entry) => entry.action === 'AssumeRole');
    expect(assume?.roleSessionName).toBe('secretvisor-worker-finance');
    expect(assume?.accessKeyId).toBe(HOST_KEY_ID);
    const reads = server.requestLog.entries.filter((entry) => entry.service === 'secretsmanager');
    expect(reads.map((entry) => entry.roleArn)).toEqual([FINANCE_ROLE, FINANCE_ROLE]);
  });

  it('fails with AccessDenied naming the role when the ExternalId is wrong (and never shows the ExternalId)', async () => {
    server.secrets.put('noxus/pools/finance', { BANK_TOKEN: randomSecret('bank-token') });
    const error = await readError(open({ secretId: 'noxus/pools/finance', roleArn: FINANCE_ROLE, externalId: randomSecret('wrong-external-id') }, { pool: 'finance' }));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain(`assuming role ${FINANCE_ROLE}`);
    expect(error.message).toContain('AccessDenied');
    expect(error.hint).toContain('externalId');
  });

  it('keeps identities apart: the host cannot read a pool secret, each role reads only its own', async () => {
    server.secrets.put('noxus/pools/finance', { BANK_TOKEN: randomSecret('bank-token') });
    const legalKey = randomSecret('legal-key');
    server.secrets.put('noxus/pools/legal', { LEGAL_KEY: legalKey });

    expect((await readError(open({ secretId: 'noxus/pools/finance' }))).message).toContain('AccessDeniedException');
    expect(revealAll(await read(open({ secretId: 'noxus/pools/legal', roleArn: LEGAL_ROLE }, { pool: 'legal' })))).toEqual({
      LEGAL_KEY: legalKey,
    });
    const crossed = await readError(open({ secretId: 'noxus/pools/finance', roleArn: LEGAL_ROLE }, { pool: 'legal' }));
    expect(crossed.message).toContain('AccessDeniedException');
  });

  it('assumes the role again when AWS says its session expired before the SDK expected', async () => {
    const bankToken = randomSecret('bank-token');
    server.secrets.put('noxus/pools/finance', { BANK_TOKEN: bankToken });
    const source = open({ secretId: 'noxus/pools/finance', roleArn: FINANCE_ROLE, externalId: FINANCE_EXTERNAL_ID }, { pool: 'finance-expiry' });
    await read(source);
    server.identities.expireSessions();
    server.requestLog.clear();

    const error = await readError(source);
    expect(error.message).toContain('ExpiredTokenException');
    expect(revealAll(await read(source))).toEqual({ BANK_TOKEN: bankToken });
    expect(server.requestLog.count('AssumeRole', { ok: true })).toBe(1);
    expect(capture.text()).toContain('credentials expired');
  });

  it('assumes the role again before its credentials expire', async () => {
    const shortLived = await startAwsServer({
      users: [{ name: 'fleet-host', accessKeyId: HOST_KEY_ID, secretAccessKey: HOST_SECRET_KEY }],
      roles: [{ arn: FINANCE_ROLE, externalId: FINANCE_EXTERNAL_ID, secrets: ['noxus/pools/finance'] }],
      // The SDK refreshes credentials within 5 minutes of expiry: these are due after about one second.
      sessionTtlSeconds: 301,
    });
    const previousSts = process.env.AWS_ENDPOINT_URL_STS;
    process.env.AWS_ENDPOINT_URL_STS = shortLived.endpoint;
    try {
      shortLived.secrets.put('noxus/pools/finance', { BANK_TOKEN: randomSecret('bank-token') });
      const source = open({ secretId: 'noxus/pools/finance', roleArn: FINANCE_ROLE, externalId: FINANCE_EXTERNAL_ID, endpoint: shortLived.endpoint }, { pool: 'finance-short' });
      await pollUntil(
        async () => {
          if (shortLived.requestLog.count('AssumeRole') >= 2) return true;
          await read(source);
          return false;
        },
        'a second AssumeRole of the short-lived credentials',
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(shortLived.requestLog.count('AssumeRole', { ok: true })).toBeGreaterThanOrEqual(2);
      expect(shortLived.requestLog.count('DescribeSecret', { ok: false })).toBe(0);
    } finally {
      process.env.AWS_ENDPOINT_URL_STS = previousSts;
      await shortLived.stop();
    }
  });
});

describe('failures', () => {
  it.each<[AwsFaultKind, string]>([
    ['throttle', 'ThrottlingException'],
    ['internal', 'InternalServiceError (HTTP 500)'],
    ['unavailable', 'ServiceUnavailable (HTTP 503)'],
    ['expiredToken', 'ExpiredTokenException'],
    ['reset', 'ECONNRESET'],
  ])('turns %s into a retryable SourceUnavailableError naming source, secret and %s', async (kind, code) => {
    server.secrets.put('noxus/global', { A: randomSecret('a') });
    server.faults.inject({ kind });
    const error = await readError(open());
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.exitCode).toBe(69);
    expect(error.message).toContain('"platform"');
    expect(error.message).toContain('"noxus/global"');
    expect(error.message).toContain(code);
    expect(error.hint).toBeDefined();
  });

  it('turns AccessDeniedException into a PermissionError (77, not retried) naming source and secret', async () => {
    server.secrets.put('noxus/global', { A: randomSecret('a') });
    server.faults.inject({ kind: 'accessDenied' });
    const error = await readError(open());
    expect(error.exitCode).toBe(77);
    expect(error.message).toContain('"platform"');
    expect(error.message).toContain('AccessDeniedException');
  });

  it('keeps the SDK retries bounded at 3 attempts per call', async () => {
    server.secrets.put('noxus/global', { A: randomSecret('a') });
    server.faults.inject({ kind: 'throttle' });
    server.requestLog.clear();
    await readError(open());
    expect(server.requestLog.count('DescribeSecret')).toBe(3);
  });

  it('recovers by itself once the fault is gone', async () => {
    const value = randomSecret('a');
    server.secrets.put('noxus/global', { A: value });
    const source = open();
    server.faults.inject({ kind: 'internal', times: 3 });
    await readError(source);
    expect(revealAll(await read(source))).toEqual({ A: value });
  });

  it('names an unknown secret ResourceNotFoundException', async () => {
    const error = await readError(open({ secretId: 'noxus/does-not-exist' }));
    expect(error.message).toContain('ResourceNotFoundException');
    expect(error.hint).toContain('secretId');
  });

  it('fails a refresh with ResourceNotFoundException once the secret is deleted', async () => {
    server.secrets.put('noxus/plain', randomSecret('plain-token'));
    const source = open({ secretId: 'noxus/plain', key: 'TOKEN' });
    await read(source);
    server.secrets.remove('noxus/plain');
    expect((await readError(source)).message).toContain('ResourceNotFoundException');
  });

  it('names unknown credentials without showing them', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = randomSecret('wrong-secret-key');
    try {
      const error = await readError(open({ region: 'eu-west-1' }));
      expect(error.message).toContain('InvalidSignatureException');
      expect(error.message).not.toContain(HOST_KEY_ID);
      expect(error.hint).toContain('AWS_ACCESS_KEY_ID');
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = HOST_SECRET_KEY;
    }
  });

  it('names an unreachable endpoint by its network error code', async () => {
    const gone = await startAwsServer();
    await gone.stop();
    const error = await readError(open({ endpoint: gone.endpoint }));
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('gives up a slow call when the supervisor aborts it', async () => {
    server.secrets.put('noxus/global', { A: randomSecret('a') });
    server.faults.inject({ kind: 'latency', delayMs: 5_000 });
    const started = Date.now();
    await expect(open().read(AbortSignal.timeout(200))).rejects.toBeInstanceOf(SourceUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a stage no version holds', async () => {
    server.secrets.put('noxus/global', { A: randomSecret('a') });
    const error = await readError(open({ versionStage: 'AWSPENDING' }));
    expect(error.message).toContain('AWSPENDING');
  });
});
