import { BatchGetSecretValueCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsServer, type AwsServer } from '../servers/aws-server.js';

const USER = { name: 'tester', accessKeyId: 'AKIATESTSERVER', secretAccessKey: 'test-secret-key', secrets: ['app/a', 'app/b', 'app/missing'] };
const ROLE = { arn: 'arn:aws:iam::123456789012:role/reader', externalId: 'agreed-id', secrets: ['app/c'] };

let server: AwsServer;

function secretsManager(secretAccessKey = USER.secretAccessKey): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'eu-central-1',
    endpoint: server.endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: USER.accessKeyId, secretAccessKey },
  });
}

function sts(): STSClient {
  return new STSClient({
    region: 'eu-central-1',
    endpoint: server.endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: USER.accessKeyId, secretAccessKey: USER.secretAccessKey },
  });
}

beforeAll(async () => {
  server = await startAwsServer({ users: [USER], roles: [ROLE] });
});

afterAll(async () => {
  await server.stop();
});

describe('the AWS test server, driven by the real SDK', () => {
  it('reports VersionIdsToStages and LastChangedDate without a value, and moves AWSPREVIOUS on a new version', async () => {
    const v1 = server.secrets.put('app/a', { K: 'one' });
    const v2 = server.secrets.put('app/a', { K: 'two' });
    server.requestLog.clear();

    const described = await secretsManager().send(new DescribeSecretCommand({ SecretId: 'app/a' }));

    expect(described.VersionIdsToStages).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    expect(described.LastChangedDate).toBeInstanceOf(Date);
    expect(described.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:app\/a-.{6}$/);
    expect(server.requestLog.valuesTransferred()).toBe(0);
  });

  it('answers GetSecretValue by stage or by VersionId, and by ARN', async () => {
    const v1 = server.secrets.put('app/b', 'first');
    server.secrets.put('app/b', 'second');
    const client = secretsManager();
    const arn = (await client.send(new DescribeSecretCommand({ SecretId: 'app/b' }))).ARN;

    expect((await client.send(new GetSecretValueCommand({ SecretId: 'app/b' }))).SecretString).toBe('second');
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'app/b', VersionId: v1 }))).SecretString).toBe('first');
    expect((await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }))).VersionId).toBe(v1);
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/b', VersionStage: 'AWSPENDING' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('answers BatchGetSecretValue with values and per-secret errors', async () => {
    server.secrets.put('app/a', { K: 'v' });
    server.secrets.put('app/c', 'not yours');
    server.requestLog.clear();

    const batch = await secretsManager().send(new BatchGetSecretValueCommand({ SecretIdList: ['app/a', 'app/c', 'app/missing'] }));

    expect(batch.SecretValues?.map((entry) => entry.Name)).toEqual(['app/a']);
    expect(batch.Errors?.map((entry) => [entry.SecretId, entry.ErrorCode])).toEqual([
      ['app/c', 'AccessDeniedException'],
      ['app/missing', 'ResourceNotFoundException'],
    ]);
    expect(server.requestLog.valuesTransferred()).toBe(1);
  });

  it('refuses a request signed with the wrong secret key', async () => {
    await expect(secretsManager('not-the-key').send(new DescribeSecretCommand({ SecretId: 'app/a' }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
    });
  });

  it('issues role credentials only with the right ExternalId and a valid session name', async () => {
    const client = sts();
    const ok = await client.send(new AssumeRoleCommand({ RoleArn: ROLE.arn, RoleSessionName: 'secretvisor-test', ExternalId: 'agreed-id' }));
    expect(ok.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(ok.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(ok.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/reader/secretvisor-test');

    await expect(client.send(new AssumeRoleCommand({ RoleArn: ROLE.arn, RoleSessionName: 'secretvisor-test', ExternalId: 'guess' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(client.send(new AssumeRoleCommand({ RoleArn: ROLE.arn, RoleSessionName: 'bad name!', ExternalId: 'agreed-id' }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });

  it('delays answers by the injected latency and counts each fault hit', async () => {
    server.secrets.put('app/a', { K: 'v' });
    server.faults.inject({ kind: 'latency', delayMs: 300, times: 1 });
    server.faults.inject({ kind: 'throttle', action: 'GetSecretValue', times: 1 });
    const client = secretsManager();
    const started = Date.now();

    await client.send(new DescribeSecretCommand({ SecretId: 'app/a' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).SecretString).toBe('{"K":"v"}');
  });
});
