import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sourceCommon } from '../test/helpers/source-config.js';
import type { AwsSourceConfig } from '../src/config/config.js';
import { systemClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import { createAwsSource } from '../src/sources/aws/aws-source.js';
import type { SecretSource } from '../src/sources/source.js';
import { startAwsServer, type AwsServer } from '../test/servers/aws-server.js';
import { awsSdkEnv } from '../test/servers/aws/sdk-env.js';
import type { BenchRow } from './bench-row.js';

const SECRET_COUNT = 50;
const REFRESH_CYCLES = 3;
/** Regional quotas (requests per second) from the Secrets Manager quota table. */
const DESCRIBE_SECRET_QUOTA = 40_000;
const GET_SECRET_VALUE_QUOTA = 10_000;
const REFRESH_SECONDS = 300;

interface Phase {
  readonly requests: number;
  readonly describes: number;
  readonly gets: number;
  readonly values: number;
}

/**
 * Requests secretvisor makes for 50 unchanged AWS secrets: one first read,
 * then {@link REFRESH_CYCLES} refresh cycles, against the loopback test
 * server with the real SDK. The baseline, measured in the same run, is a
 * poller that calls GetSecretValue every cycle. Target: after the first
 * read, only version checks and no secret value transferred.
 */
export async function measureAwsRequests(): Promise<BenchRow[]> {
  const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const server = await startAwsServer({ users: [{ name: 'bench', accessKeyId, secretAccessKey, secrets: '*' }] });
  const savedEnv = { ...process.env };
  Object.assign(process.env, awsSdkEnv({ accessKeyId, secretAccessKey }));
  const secretIds = Array.from({ length: SECRET_COUNT }, (_, index) => `bench/secret-${index}`);
  for (const id of secretIds) server.secrets.put(id, { TOKEN: randomBytes(16).toString('hex'), USER: 'bench' });
  const sources = secretIds.map((secretId, index) =>
    createAwsSource({
      config: benchConfig(`s${index}`, secretId, server.endpoint),
      log: silentLogger(),
      clock: systemClock,
      env: process.env,
      service: 'bench',
      pool: undefined,
    }),
  );
  let baselineClient: SecretsManagerClient | undefined;
  try {
    const first = await measure(server, () => readAll(sources));
    // Made after the sources' first client, which has already silenced the SDK's Node-version warning.
    const client = new SecretsManagerClient({ region: 'eu-central-1', endpoint: server.endpoint });
    baselineClient = client;
    const refresh = await measure(server, async () => {
      for (let cycle = 0; cycle < REFRESH_CYCLES; cycle++) await readAll(sources);
    });
    const baseline = await measure(server, async () => {
      for (let cycle = 0; cycle < REFRESH_CYCLES; cycle++) {
        await Promise.all(secretIds.map((id) => client.send(new GetSecretValueCommand({ SecretId: id }))));
      }
    });
    return rows(first, perCycle(refresh), perCycle(baseline));
  } finally {
    baselineClient?.destroy();
    await Promise.all(sources.map((source) => source.close()));
    process.env = savedEnv;
    await server.stop();
  }
}

function rows(first: Phase, refresh: Phase, baseline: Phase): BenchRow[] {
  const checksPerCycle = DESCRIBE_SECRET_QUOTA * REFRESH_SECONDS;
  const baselineChecksPerCycle = GET_SECRET_VALUE_QUOTA * REFRESH_SECONDS;
  return [
    {
      figure: `AWS requests per refresh cycle, ${SECRET_COUNT} unchanged secrets`,
      value: `${refresh.requests} (${refresh.describes} DescribeSecret, ${refresh.gets} GetSecretValue)`,
      baseline: `${baseline.requests} GetSecretValue (polling values)`,
      ratio: ratio(refresh.requests, baseline.requests),
      target: `≤ ${SECRET_COUNT} version checks, 0 GetSecretValue`,
      met: refresh.describes <= SECRET_COUNT && refresh.gets === 0,
    },
    {
      figure: `Secret values transferred per refresh cycle, ${SECRET_COUNT} unchanged secrets`,
      value: `${refresh.values}`,
      baseline: `${baseline.values}`,
      ratio: ratio(refresh.values, baseline.values),
      target: '0',
      met: refresh.values === 0,
    },
    {
      figure: `AWS requests at the first read, ${SECRET_COUNT} secrets`,
      value: `${first.requests} (${first.describes} DescribeSecret, ${first.gets} GetSecretValue)`,
      baseline: `${SECRET_COUNT} GetSecretValue`,
      ratio: ratio(first.requests, SECRET_COUNT),
      target: `${SECRET_COUNT} values, each read once`,
      met: first.values === SECRET_COUNT,
    },
    {
      figure: `Secrets a region can serve per ${REFRESH_SECONDS / 60}m refresh (DescribeSecret quota ${DESCRIBE_SECRET_QUOTA.toLocaleString('en-US')}/s)`,
      value: `${checksPerCycle.toLocaleString('en-US')} (${(checksPerCycle / SECRET_COUNT).toLocaleString('en-US')} hosts × ${SECRET_COUNT})`,
      baseline: `${baselineChecksPerCycle.toLocaleString('en-US')} polling GetSecretValue (${GET_SECRET_VALUE_QUOTA.toLocaleString('en-US')}/s)`,
      ratio: ratio(checksPerCycle, baselineChecksPerCycle),
      target: '—',
      met: undefined,
    },
  ];
}

async function readAll(sources: readonly SecretSource[]): Promise<void> {
  await Promise.all(sources.map((source) => source.read(new AbortController().signal)));
}

async function measure(server: AwsServer, run: () => Promise<void>): Promise<Phase> {
  server.requestLog.clear();
  await run();
  return {
    requests: server.requestLog.count(),
    describes: server.requestLog.count('DescribeSecret'),
    gets: server.requestLog.count('GetSecretValue'),
    values: server.requestLog.valuesTransferred(),
  };
}

function perCycle(phase: Phase): Phase {
  return {
    requests: phase.requests / REFRESH_CYCLES,
    describes: phase.describes / REFRESH_CYCLES,
    gets: phase.gets / REFRESH_CYCLES,
    values: phase.values / REFRESH_CYCLES,
  };
}

function ratio(value: number, baseline: number): string {
  return baseline === 0 ? '—' : `${(value / baseline).toFixed(2)}×`;
}

function benchConfig(name: string, secretId: string, endpoint: string): AwsSourceConfig {
  return {
    ...sourceCommon(name, { refreshMs: REFRESH_SECONDS * 1000 }),
    type: 'aws-secrets-manager',
    region: 'eu-central-1',
    secretId,
    versionStage: 'AWSCURRENT',
    key: undefined,
    maxResponseBytes: 1024 * 1024,
    endpoint,
    roleArn: undefined,
    externalId: undefined,
  };
}
