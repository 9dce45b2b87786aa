import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { expectNoLeak, issuedSecrets, randomSecret } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { startAwsServer, type AwsServer } from '../servers/aws-server.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';

const HOST_KEY_ID = randomSecret('AKIAHOST');
const HOST_SECRET_KEY = randomSecret('host-secret-key');
const FINANCE_ROLE = 'arn:aws:iam::123456789012:role/noxus-finance';
const FINANCE_EXTERNAL_ID = randomSecret('external-id');
const REFRESH = '200ms';
const EXAMPLE_CONFIG = fileURLToPath(new URL('../../examples/aws-secrets-manager/secretvisor.yaml', import.meta.url));
const EXAMPLE_ROLE = 'arn:aws:iam::210987654321:role/noxus-finance-secrets';
const EXAMPLE_EXTERNAL_ID = '7f3a9c2e-5b1d-4e8f-a6c0-2d4b8e1f9a37';

/** A child that writes its whole environment to a file, then announces itself (its SIGTERM handler in: a test may stop it from then on) and waits. */
const PRINT_ENV_CHILD = `
import { renameSync, writeFileSync } from 'node:fs';
process.on('SIGTERM', () => process.exit(0));
const file = process.argv[2];
writeFileSync(file + '.tmp', JSON.stringify(process.env));
renameSync(file + '.tmp', file);
process.stdout.write('child-ready ' + process.pid + '\\n');
setInterval(() => {}, 1 << 30);
`;

let server: AwsServer;

beforeAll(async () => {
  server = await startAwsServer({
    users: [
      {
        name: 'fleet-host',
        accessKeyId: HOST_KEY_ID,
        secretAccessKey: HOST_SECRET_KEY,
        secrets: ['noxus/global', 'noxus/api-token', 'noxus/rotating', 'noxus/worker/geocoder-api-key'],
      },
    ],
    roles: [
      { arn: FINANCE_ROLE, externalId: FINANCE_EXTERNAL_ID, secrets: ['noxus/pools/finance'] },
      { arn: EXAMPLE_ROLE, externalId: EXAMPLE_EXTERNAL_ID, secrets: ['noxus/pools/finance'] },
    ],
  });
});

afterEach(async () => {
  server.faults.clear();
});

afterAll(async () => {
  await server.stop();
});

/** secretvisor's environment: test credentials, the region, STS on the test server; Secrets Manager too unless the config sets `endpoint`. */
function cliEnv(options: { readonly viaEnvEndpoint?: boolean } = {}): NodeJS.ProcessEnv {
  return baseEnv({
    ...awsSdkEnv({
      accessKeyId: HOST_KEY_ID,
      secretAccessKey: HOST_SECRET_KEY,
      stsEndpoint: server.endpoint,
      ...(options.viaEnvEndpoint === true ? { secretsManagerEndpoint: server.endpoint } : {}),
    }),
    SECRETVISOR_LOG_FORMAT: 'json',
  });
}

interface Workspace {
  readonly dir: string;
  readonly config: string;
  readonly envFile: string;
  readonly child: readonly string[];
}

/** A folder with `secretvisor.yaml` (the given `sources:` and `scopes:` blocks) and the print-env child. */
function workspace(yaml: string): Workspace {
  const dir = tempDir('sv-aws-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(config, `version: 1\n${yaml}\nonChange:\n  debounce: 50ms\n  stopTimeout: 2s\nstartup:\n  timeout: 3s\n`);
  const script = join(dir, 'print-env.mjs');
  writeFileSync(script, PRINT_ENV_CHILD);
  const envFile = join(dir, 'child-env.json');
  return { dir, config, envFile, child: [process.execPath, script, envFile] };
}

function start(ws: Workspace, args: readonly string[], env = cliEnv()): RunningCli {
  return startCli(['run', '-c', ws.config, ...args, '--', ...ws.child], { cwd: ws.dir, env });
}

function starts(cli: RunningCli): number {
  return cli.stdout.match(/child-ready \d+/g)?.length ?? 0;
}

async function waitForStarts(cli: RunningCli, count: number): Promise<void> {
  await cli.waitFor((c) => starts(c) >= count, `child start number ${count}`);
}

function childEnv(ws: Workspace): Record<string, string> {
  return JSON.parse(readFileSync(ws.envFile, 'utf8')) as Record<string, string>;
}

/** Resolves once the server has answered `count` more successful DescribeSecret calls than now: that many refreshes happened. */
async function waitForRefreshes(cli: RunningCli, count: number): Promise<void> {
  const target = server.requestLog.count('DescribeSecret', { ok: true }) + count;
  await cli.waitFor(() => server.requestLog.count('DescribeSecret', { ok: true }) >= target, `${count} more refreshes`);
}

const globalSource = (extra = ''): string => `
  core:
    type: aws-secrets-manager
    region: eu-central-1
    endpoint: ${server.endpoint}
    secretId: noxus/global
    refresh: ${REFRESH}${extra}`;

describe('secretvisor with AWS Secrets Manager', () => {
  it('check reads JSON and plain secrets with keys mapping and prints names, never values', async () => {
    server.secrets.put('noxus/global', { DB_USER: 'noxus', DB_PASSWORD: randomSecret('db-password'), UNUSED: randomSecret('unused') });
    server.secrets.put('noxus/api-token', randomSecret('api-token'));
    const ws = workspace(`sources:${globalSource(`
    keys:
      DATABASE_USER: DB_USER
      DATABASE_PASSWORD: DB_PASSWORD`)}
  api:
    type: aws-secrets-manager
    region: eu-central-1
    endpoint: ${server.endpoint}
    secretId: noxus/api-token
    key: API_TOKEN
scopes:
  global: [core, api]`);

    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv() });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/DATABASE_USER\s+core/);
    expect(result.stdout).toMatch(/DATABASE_PASSWORD\s+core/);
    expect(result.stdout).toMatch(/API_TOKEN\s+api/);
    expect(result.stdout).not.toContain('UNUSED');
  });

  it('runs the child with the secrets, read through AWS_ENDPOINT_URL_SECRETS_MANAGER, and without AWS credentials', async () => {
    const password = randomSecret('db-password');
    const token = randomSecret('api-token');
    server.secrets.put('noxus/global', { DB_USER: 'noxus', DB_PASSWORD: password, POOL_SIZE: 8 });
    server.secrets.put('noxus/api-token', token);
    const ws = workspace(`sources:
  core:
    type: aws-secrets-manager
    region: eu-central-1
    secretId: noxus/global
  api:
    type: aws-secrets-manager
    secretId: noxus/api-token
    key: API_TOKEN
scopes:
  global: [core, api]`);
    const cli = start(ws, [], cliEnv({ viaEnvEndpoint: true }));

    await waitForStarts(cli, 1);
    const env = childEnv(ws);

    expect(env).toMatchObject({ DB_USER: 'noxus', DB_PASSWORD: password, POOL_SIZE: '8', API_TOKEN: token });
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) {
      expect(env, name).not.toHaveProperty(name);
    }
    const values = Object.values(env).join('\n');
    expect(values).not.toContain(HOST_KEY_ID);
    expect(values).not.toContain(HOST_SECRET_KEY);
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(0);
  });

  it('assumes the pool role with its ExternalId and gives only that pool the pool secret', async () => {
    const bankToken = randomSecret('bank-token');
    server.secrets.put('noxus/global', { DB_PASSWORD: randomSecret('db-password') });
    server.secrets.put('noxus/pools/finance', { bank_token: bankToken });
    const ws = workspace(`sources:${globalSource()}
  finance:
    type: aws-secrets-manager
    region: eu-central-1
    endpoint: ${server.endpoint}
    secretId: noxus/pools/finance
    roleArn: ${FINANCE_ROLE}
    externalId: ${FINANCE_EXTERNAL_ID}
    keys:
      BANK_API_TOKEN: bank_token
scopes:
  global: [core]
  services:
    frontend: []
    worker: []
  pools:
    worker:
      finance: [finance]`);
    server.requestLog.clear();

    const cli = start(ws, ['-s', 'worker', '-p', 'finance']);
    await waitForStarts(cli, 1);

    expect(childEnv(ws)).toMatchObject({ BANK_API_TOKEN: bankToken });
    const assume = server.requestLog.entries.find((entry) => entry.action === 'AssumeRole');
    expect(assume?.roleSessionName).toBe('secretvisor-worker-finance');
    const poolReads = server.requestLog.entries.filter((entry) => entry.targets.includes('noxus/pools/finance'));
    expect(new Set(poolReads.map((entry) => entry.roleArn))).toEqual(new Set([FINANCE_ROLE]));
    cli.kill('SIGTERM');
    await cli.exited();

    const frontend = await runCli(['check', '-c', ws.config, '-s', 'frontend'], { cwd: ws.dir, env: cliEnv() });
    expect(frontend.code, frontend.stderr).toBe(0);
    expect(frontend.stdout).not.toContain('BANK_API_TOKEN');
  });

  it('exits 77 at once with a wrong ExternalId (waiting does not change it), naming the source, the role and AccessDenied', async () => {
    server.secrets.put('noxus/pools/finance', { bank_token: randomSecret('bank-token') });
    const ws = workspace(`sources:
  finance:
    type: aws-secrets-manager
    region: eu-central-1
    endpoint: ${server.endpoint}
    secretId: noxus/pools/finance
    roleArn: ${FINANCE_ROLE}
    externalId: ${randomSecret('wrong-external-id')}
scopes:
  global: [finance]`);
    const started = Date.now();

    const result = await runCli(['run', '-c', ws.config, '--', ...ws.child], { cwd: ws.dir, env: cliEnv() });

    expect(result.code).toBe(77);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.stderr).toContain('source \\"finance\\"');
    expect(result.stderr).toContain(`assuming role ${FINANCE_ROLE}`);
    expect(result.stderr).toContain('AccessDenied');
    expect(result.stdout).not.toContain('child-ready');
  });

  it('exits 69 within startup.timeout when AWS is unreachable, naming the source and the error code', async () => {
    const gone = await startAwsServer();
    await gone.stop();
    const ws = workspace(`sources:
  core:
    type: aws-secrets-manager
    region: eu-central-1
    endpoint: ${gone.endpoint}
    secretId: noxus/global
scopes:
  global: [core]`);
    const started = Date.now();

    const result = await runCli(['run', '-c', ws.config, '--', ...ws.child], { cwd: ws.dir, env: cliEnv() });

    expect(result.code).toBe(69);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.stderr).toContain('source \\"core\\"');
    expect(result.stderr).toContain('ECONNREFUSED');
  });

  it('exits 78 at once when no region is configured anywhere, naming the source and the fix', async () => {
    const ws = workspace(`sources:
  core:
    type: aws-secrets-manager
    endpoint: ${server.endpoint}
    secretId: noxus/global
scopes:
  global: [core]`);
    const env = cliEnv();
    delete env.AWS_REGION;

    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env });

    expect(result.code).toBe(78);
    expect(result.stderr).toContain('source \\"core\\"');
    expect(result.stderr).toContain('AWS_REGION');
  });

  it('restarts the child once for a new VersionId, and never while the VersionId stays the same', async () => {
    const first = randomSecret('token-v1');
    server.secrets.put('noxus/rotating', { TOKEN: first });
    const ws = workspace(`sources:
  core:
    type: aws-secrets-manager
    region: eu-central-1
    endpoint: ${server.endpoint}
    secretId: noxus/rotating
    refresh: ${REFRESH}
scopes:
  global: [core]`);
    const cli = start(ws, []);
    await waitForStarts(cli, 1);
    expect(childEnv(ws).TOKEN).toBe(first);

    server.requestLog.clear();
    await waitForRefreshes(cli, 3);
    expect(starts(cli)).toBe(1);
    expect(server.requestLog.count('GetSecretValue')).toBe(0);

    const second = randomSecret('token-v2');
    server.secrets.put('noxus/rotating', { TOKEN: second });
    await waitForStarts(cli, 2);
    expect(childEnv(ws).TOKEN).toBe(second);

    server.requestLog.clear();
    await waitForRefreshes(cli, 3);
    expect(starts(cli)).toBe(2);
    expect(server.requestLog.count('GetSecretValue')).toBe(0);
    cli.kill('SIGTERM');
    await cli.exited();
  });

  it.each([
    ['throttling', 'throttle', 'ThrottlingException'],
    ['an outage (connections dropped)', 'reset', 'ECONNRESET'],
    ['5xx answers', 'internal', 'InternalServiceError'],
  ] as const)('leaves the child untouched during %s and recovers after it', async (_label, kind, code) => {
    const first = randomSecret('token-v1');
    server.secrets.put('noxus/rotating', { TOKEN: first });
    const ws = workspace(`sources:
  core:
    type: aws-secrets-manager
    region: eu-central-1
    endpoint: ${server.endpoint}
    secretId: noxus/rotating
    refresh: ${REFRESH}
scopes:
  global: [core]`);
    const cli = start(ws, []);
    await waitForStarts(cli, 1);

    server.faults.inject({ kind });
    await cli.waitForStderr(code);
    const rotated = randomSecret('token-v2');
    server.secrets.put('noxus/rotating', { TOKEN: rotated });
    const failures = server.requestLog.count('DescribeSecret', { ok: false });
    await cli.waitFor(() => server.requestLog.count('DescribeSecret', { ok: false }) >= failures + 3, 'more failed refreshes');
    expect(starts(cli)).toBe(1);
    expect(childEnv(ws).TOKEN).toBe(first);

    server.faults.clear();
    await waitForStarts(cli, 2);
    expect(childEnv(ws).TOKEN).toBe(rotated);
    cli.kill('SIGTERM');
    await cli.exited();
  });

  it('never logs a secret value or credential, even at debug level', async () => {
    server.secrets.put('noxus/global', { DB_PASSWORD: randomSecret('db-password') });
    const ws = workspace(`sources:${globalSource()}
scopes:
  global: [core]`);
    const cli = start(ws, ['--log-level', 'debug']);
    await waitForStarts(cli, 1);
    await waitForRefreshes(cli, 2);
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(issuedSecrets()).toContain(HOST_SECRET_KEY);
    expectNoLeak(result.stderr, 'debug log');
    expect(result.stderr).not.toContain(HOST_KEY_ID);
  });

  it('serves the example config: global, worker and per-pool secrets through the pool role', async () => {
    server.secrets.put('noxus/global', { DB_USER: 'noxus', DB_PASSWORD: randomSecret('db-password'), REDIS_URL: 'redis://cache:6379' });
    server.secrets.put('noxus/worker/geocoder-api-key', randomSecret('geocoder-key'));
    server.secrets.put('noxus/pools/finance', { bank_token: randomSecret('bank-token'), llm_key: randomSecret('llm-key') });
    const env = cliEnv({ viaEnvEndpoint: true });

    const finance = await runCli(['check', '-c', EXAMPLE_CONFIG, '-s', 'worker', '-p', 'finance'], { env });
    const frontend = await runCli(['check', '-c', EXAMPLE_CONFIG, '-s', 'frontend'], { env });

    expect(finance.code, finance.stderr).toBe(0);
    for (const name of ['DB_PASSWORD', 'REDIS_URL', 'GEOCODER_API_KEY', 'BANK_API_TOKEN', 'LLM_API_KEY']) {
      expect(finance.stdout).toContain(name);
    }
    expect(frontend.code, frontend.stderr).toBe(0);
    expect(frontend.stdout).toContain('DB_PASSWORD');
    for (const name of ['GEOCODER_API_KEY', 'BANK_API_TOKEN', 'LLM_API_KEY']) expect(frontend.stdout).not.toContain(name);
  });
});
