import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { baseEnv, runCli, type RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { expectNoLeak, randomSecret } from '../helpers/secrets.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';
import { startAwsProxy, type AwsProxy } from './moto/aws-proxy.js';
import { hostCredentials, MOTO_REGION, motoClients, motoClientsAsRole, type MotoClients } from './moto/moto-clients.js';
import { startMoto, type MotoServer } from './moto/moto-server.js';
import { childEnv, startRun, starts, waitForStarts, workspace, type Workspace } from './moto/workspace.js';
import { INSTALL_HINT, pythonTool } from './tools/python-env.js';
import { describeReal } from './tools/require-tool.js';
import { freePort } from './openbao/process-tools.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';

const HOST = hostCredentials();
const FINANCE_ROLE = 'arn:aws:iam::210987654321:role/noxus-finance-secrets';
const REFRESH = '300ms';

let moto: MotoServer;
let proxy: AwsProxy;
let aws: MotoClients;
/** secretvisor's environment: the host's static credentials, STS through the proxy; Secrets Manager too unless `viaEnvEndpoint` is false. */
function cliEnv(options: { readonly secretsManagerEndpoint?: string } = {}): NodeJS.ProcessEnv {
  return baseEnv({
    ...awsSdkEnv({
      accessKeyId: HOST.accessKeyId,
      secretAccessKey: HOST.secretAccessKey,
      region: MOTO_REGION,
      stsEndpoint: proxy.endpoint,
      secretsManagerEndpoint: options.secretsManagerEndpoint ?? proxy.endpoint,
    }),
    SECRETVISOR_LOG_FORMAT: 'json',
  });
}

function run(ws: Workspace, args: readonly string[] = [], env = cliEnv()): RunningCli {
  return startRun(ws, env, args);
}

/** The values `env --reveal` resolves (no child started). */
async function revealed(ws: Workspace, env = cliEnv(), args: readonly string[] = []): Promise<Record<string, string>> {
  const result = await runCli(['env', '-c', ws.config, ...args, '--reveal', '--format', 'json'], {
    cwd: ws.dir,
    env,
    allowSecretsOnStdout: true,
    timeoutMs: 30_000,
  });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** Waits until `count` more successful DescribeSecret calls went through than now: that many refreshes happened. */
async function waitForRefreshes(cli: RunningCli, count: number): Promise<void> {
  const target = proxy.count('DescribeSecret', { ok: true }) + count;
  await cli.waitFor(() => proxy.count('DescribeSecret', { ok: true }) >= target, `${count} more refreshes`);
}

const source = (name: string, secretId: string, extra = ''): string => `
  ${name}:
    type: aws-secrets-manager
    secretId: ${secretId}
    refresh: ${REFRESH}${extra}`;

describeReal('AWS Secrets Manager on moto (real SDK, real CLI)', { tools: { moto_server: pythonTool('moto_server') }, install: INSTALL_HINT }, () => {
  beforeAll(async () => {
    moto = await startMoto(pythonTool('moto_server') as string);
    proxy = await startAwsProxy(moto.endpoint);
    aws = motoClients(moto.endpoint, HOST);
  }, 90_000);

  beforeEach(async () => {
    await moto.reset();
    proxy.requests.length = 0;
    proxy.faults.clear();
  });

  afterAll(async () => {
    aws?.destroy();
    await proxy?.stop();
    await moto?.stop();
  });

  it('gives the child JSON, plain and binary secrets, read through AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => {
    const password = randomSecret('db-password');
    const token = randomSecret('api-token');
    const binary = randomBytes(48);
    await aws.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/global', SecretString: JSON.stringify({ DB_USER: 'noxus', DB_PASSWORD: password, POOL_SIZE: 8 }) }));
    await aws.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/api-token', SecretString: token }));
    await aws.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/tls-key', SecretBinary: binary }));
    const ws = workspace(`sources:${source('core', 'noxus/global')}${source('api', 'noxus/api-token', '\n    key: API_TOKEN')}${source('tls', 'noxus/tls-key', '\n    key: TLS_KEY_B64')}`);

    const cli = run(ws);
    await waitForStarts(cli, 1);

    expect(childEnv(ws)).toMatchObject({ DB_USER: 'noxus', DB_PASSWORD: password, POOL_SIZE: '8', API_TOKEN: token, TLS_KEY_B64: binary.toString('base64') });
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) expect(childEnv(ws)).not.toHaveProperty(name);
    expect(proxy.count('GetSecretValue', { ok: true })).toBe(3);
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain(HOST.accessKeyId);
  });

  it("the health listener shows the secret's age from its LastChangedDate, and a rotation moves it", async () => {
    await aws.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/aged', SecretString: JSON.stringify({ TOKEN: randomSecret('aged-v1') }) }));
    const port = await freePort();
    const ws = workspace(`sources:${source('core', 'noxus/aged')}\nmetrics: { listen: "127.0.0.1:${port}" }`);
    const cli = run(ws);
    await waitForStarts(cli, 1);
    const bodies: string[] = [];
    const lastChanged = async (): Promise<number | undefined> => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      bodies.push(body);
      return sampleValue(parseExposition(body), 'secretvisor_secret_last_changed_timestamp_seconds', { source: 'core' });
    };
    const described = await aws.secretsManager.send(new DescribeSecretCommand({ SecretId: 'noxus/aged' }));
    expect(await lastChanged()).toBeCloseTo((described.LastChangedDate as Date).getTime() / 1000, 0);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await aws.secretsManager.send(new PutSecretValueCommand({ SecretId: 'noxus/aged', SecretString: JSON.stringify({ TOKEN: randomSecret('aged-v2') }) }));
    await waitForStarts(cli, 2);
    const rotated = await aws.secretsManager.send(new DescribeSecretCommand({ SecretId: 'noxus/aged' }));
    // LastChangedDate has whole seconds: the wait above makes the new one later.
    expect((rotated.LastChangedDate as Date).getTime()).toBeGreaterThan((described.LastChangedDate as Date).getTime());
    expect(await lastChanged()).toBeCloseTo((rotated.LastChangedDate as Date).getTime() / 1000, 0);
    expectNoLeak(bodies.join('\n'), 'the health listener');
  });

  it('applies a PutSecretValue rotation once (exactly one restart) and checks versions by DescribeSecret only', async () => {
    const first = randomSecret('token-v1');
    await aws.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/rotating', SecretString: JSON.stringify({ TOKEN: first }) }));
    const ws = workspace(`sources:${source('core', 'noxus/rotating')}`);
    const cli = run(ws);
    await waitForStarts(cli, 1);
    expect(childEnv(ws).TOKEN).toBe(first);

    const reads = proxy.count('GetSecretValue');
    await waitForRefreshes(cli, 3);
    expect(starts(cli)).toBe(1);
    expect(proxy.count('GetSecretValue')).toBe(reads);

    const second = randomSecret('token-v2');
    await aws.secretsManager.send(new PutSecretValueCommand({ SecretId: 'noxus/rotating', SecretString: JSON.stringify({ TOKEN: second }) }));
    await waitForStarts(cli, 2);
    expect(childEnv(ws).TOKEN).toBe(second);

    await waitForRefreshes(cli, 3);
    expect(starts(cli)).toBe(2);
    expect(proxy.count('GetSecretValue')).toBe(reads + 1);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });

  it('ignores a version staged AWSPENDING and restarts once when UpdateSecretVersionStage makes it AWSCURRENT', async () => {
    const first = randomSecret('token-v1');
    const second = randomSecret('token-v2');
    const created = await aws.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/staged', SecretString: JSON.stringify({ TOKEN: first }) }));
    const ws = workspace(`sources:${source('core', 'noxus/staged')}`);
    const cli = run(ws);
    await waitForStarts(cli, 1);

    const pending = await aws.secretsManager.send(new PutSecretValueCommand({ SecretId: 'noxus/staged', SecretString: JSON.stringify({ TOKEN: second }), VersionStages: ['AWSPENDING'] }));
    await waitForRefreshes(cli, 3);
    expect(starts(cli)).toBe(1);
    expect(childEnv(ws).TOKEN).toBe(first);

    await aws.secretsManager.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'noxus/staged',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending.VersionId,
        RemoveFromVersionId: created.VersionId,
      }),
    );
    await waitForStarts(cli, 2);
    expect(childEnv(ws).TOKEN).toBe(second);
    await waitForRefreshes(cli, 3);
    expect(starts(cli)).toBe(2);

    const described = await aws.secretsManager.send(new DescribeSecretCommand({ SecretId: 'noxus/staged' }));
    expect(described.VersionIdsToStages?.[created.VersionId as string]).toEqual(['AWSPREVIOUS']);
    const previous = workspace(`sources:${source('old', 'noxus/staged', '\n    versionStage: AWSPREVIOUS')}`);
    expect(await revealed(previous)).toMatchObject({ TOKEN: first });
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });

  it("assumes the pool's role through moto's STS and reads the secret of the role's account", async () => {
    const bankToken = randomSecret('bank-token');
    const asRole = await motoClientsAsRole(moto.endpoint, HOST, FINANCE_ROLE);
    try {
      await asRole.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/pools/finance', SecretString: JSON.stringify({ bank_token: bankToken }) }));
    } finally {
      asRole.destroy();
    }
    const yaml = (withRole: boolean): string => `sources:${source(
      'finance',
      'noxus/pools/finance',
      `
    keys:
      BANK_API_TOKEN: bank_token${withRole ? `\n    roleArn: ${FINANCE_ROLE}` : ''}`,
    )}
scopes:
  pools:
    worker:
      finance: [finance]`;
    proxy.requests.length = 0;

    expect(await revealed(workspace(yaml(true)), cliEnv(), ['-s', 'worker', '-p', 'finance'])).toMatchObject({ BANK_API_TOKEN: bankToken });
    const assumed = proxy.requests.filter((entry) => entry.action === 'AssumeRole');
    expect(assumed.map((entry) => [entry.roleArn, entry.roleSessionName, entry.status])).toEqual([[FINANCE_ROLE, 'secretvisor-worker-finance', 200]]);

    // Without the role the host's own account is asked, which has no such secret: the role really was used.
    const withoutRole = await runCli(['check', '-c', workspace(yaml(false), '5s').config, '-s', 'worker', '-p', 'finance'], { env: cliEnv() });
    expect(withoutRole.code).toBe(66);
    expect(logText(withoutRole.stderr)).toContain('ResourceNotFoundException');
  });

  it("uses a source's endpoint: over AWS_ENDPOINT_URL_SECRETS_MANAGER", async () => {
    const token = randomSecret('api-token');
    await aws.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/api-token', SecretString: token }));
    const ws = workspace(`sources:${source('api', 'noxus/api-token', `\n    key: API_TOKEN\n    endpoint: ${proxy.endpoint}`)}`);

    // The variable names a port nothing listens on: only the configured endpoint can answer.
    expect(await revealed(ws, cliEnv({ secretsManagerEndpoint: 'http://127.0.0.1:9' }))).toMatchObject({ API_TOKEN: token });
    expect(proxy.count('GetSecretValue', { ok: true })).toBe(1);
  });

  it('keeps the last good values when the secret is scheduled for deletion, and says so', async () => {
    const first = randomSecret('token-v1');
    await aws.secretsManager.send(new CreateSecretCommand({ Name: 'noxus/doomed', SecretString: JSON.stringify({ TOKEN: first }) }));
    const ws = workspace(`sources:${source('core', 'noxus/doomed')}`);
    const cli = run(ws);
    await waitForStarts(cli, 1);

    await aws.secretsManager.send(new DeleteSecretCommand({ SecretId: 'noxus/doomed', RecoveryWindowInDays: 7 }));
    await cli.waitFor((c) => logText(c.stderr).includes('scheduled for deletion'), 'the deletion warning');
    expect(logText(cli.stderr)).toContain('RestoreSecret');
    expect(starts(cli)).toBe(1);
    expect(childEnv(ws).TOKEN).toBe(first);
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(0);
    expectNoLeak(result.stderr);
  });
});
