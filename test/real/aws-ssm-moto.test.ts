import { DeleteParameterCommand, PutParameterCommand, type ParameterType } from '@aws-sdk/client-ssm';
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

const HOST = hostCredentials();
const ROLE = 'arn:aws:iam::210987654321:role/noxus-parameters';
const REFRESH = '300ms';

let moto: MotoServer;
let proxy: AwsProxy;
let aws: MotoClients;
/** secretvisor's environment: the host's static credentials; SSM and STS through the proxy unless `ssmEndpoint` says otherwise. */
function cliEnv(options: { readonly ssmEndpoint?: string } = {}): NodeJS.ProcessEnv {
  return baseEnv({
    ...awsSdkEnv({
      accessKeyId: HOST.accessKeyId,
      secretAccessKey: HOST.secretAccessKey,
      region: MOTO_REGION,
      stsEndpoint: proxy.endpoint,
      ssmEndpoint: options.ssmEndpoint ?? proxy.endpoint,
    }),
    SECRETVISOR_LOG_FORMAT: 'json',
  });
}

async function put(name: string, value: string, type: ParameterType = 'String', client = aws): Promise<void> {
  await client.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true }));
}

function run(ws: Workspace, env = cliEnv()): RunningCli {
  return startRun(ws, env);
}

/** The values `env --reveal` resolves (no child started). */
async function revealed(ws: Workspace, env = cliEnv()): Promise<Record<string, string>> {
  const result = await runCli(['env', '-c', ws.config, '--reveal', '--format', 'json'], { cwd: ws.dir, env, allowSecretsOnStdout: true, timeoutMs: 30_000 });
  expect(result.code, result.stderr).toBe(0);
  expectNoLeak(result.stderr);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** Waits until `count` more successful reads of `action` went through than now: that many refreshes happened. */
async function waitForReads(cli: RunningCli, action: string, count: number): Promise<void> {
  const target = proxy.count(action, { ok: true }) + count;
  await cli.waitFor(() => proxy.count(action, { ok: true }) >= target, `${count} more ${action} calls`);
}

const hierarchy = (extra = ''): string => `sources:
  worker:
    type: aws-ssm
    path: /noxus/prod/worker/
    refresh: ${REFRESH}${extra}`;

describeReal('AWS SSM Parameter Store on moto (real SDK, real CLI)', { tools: { moto_server: pythonTool('moto_server') }, install: INSTALL_HINT }, () => {
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

  it('reads a hierarchy page by page through AWS_ENDPOINT_URL_SSM: SecureString decrypted, StringList as is, names from the last segment', async () => {
    const password = randomSecret('db-password');
    await put('/noxus/prod/worker/db-password', password, 'SecureString');
    await put('/noxus/prod/worker/api-hosts', 'a.example,b.example', 'StringList');
    await put('/noxus/prod/worker/log-level', 'debug');
    await put('/noxus/prod/worker/deeper/queue-url', 'sqs://jobs');
    const fillers = Array.from({ length: 12 }, (_, index) => `k${String(index).padStart(2, '0')}`);
    for (const name of fillers) await put(`/noxus/prod/worker/${name}`, `v-${name}`);

    const flat = await revealed(workspace(hierarchy('\n    upcase: true\n    prefix: APP_')));
    expect(flat).toMatchObject({ APP_DB_PASSWORD: password, APP_API_HOSTS: 'a.example,b.example', APP_LOG_LEVEL: 'debug', APP_K11: 'v-k11' });
    expect(Object.keys(flat)).toHaveLength(15);
    expect(flat).not.toHaveProperty('APP_QUEUE_URL');
    // 15 parameters at 10 a page: two calls.
    expect(proxy.count('GetParametersByPath', { ok: true })).toBe(2);

    const deep = await revealed(workspace(hierarchy('\n    recursive: true\n    sanitize: true')));
    expect(deep).toMatchObject({ db_password: password, queue_url: 'sqs://jobs' });
  });

  it('reads named parameters with GetParameters, 10 a call, and exits 65 naming a parameter that does not exist', async () => {
    const names = Array.from({ length: 12 }, (_, index) => `/noxus/prod/shared/p${index}`);
    const values = names.map(() => randomSecret('param'));
    for (const [index, name] of names.entries()) await put(name, values[index] as string, 'SecureString');
    const yaml = (list: readonly string[]): string => `sources:
  shared:
    type: aws-ssm
    names: [${list.join(', ')}]
    keys:
      FIRST: p0
      LAST: p11`;

    expect(await revealed(workspace(yaml(names)))).toEqual({ FIRST: values[0], LAST: values[11] });
    expect(proxy.count('GetParameters', { ok: true })).toBe(2);

    const result = await runCli(['check', '-c', workspace(yaml([...names, '/noxus/prod/shared/missing'])).config], { env: cliEnv() });
    expect(result.code).toBe(65);
    expect(logText(result.stderr)).toContain('parameter "/noxus/prod/shared/missing" not found');
  });

  it('restarts the child once for a changed value, and never for unchanged refreshes or a re-put of the same value', async () => {
    const first = randomSecret('token-v1');
    await put('/noxus/prod/worker/token', first, 'SecureString');
    const ws = workspace(hierarchy());
    const cli = run(ws);
    await waitForStarts(cli, 1);
    expect(childEnv(ws).token).toBe(first);

    await waitForReads(cli, 'GetParametersByPath', 3);
    await put('/noxus/prod/worker/token', first, 'SecureString');
    await waitForReads(cli, 'GetParametersByPath', 3);
    expect(starts(cli)).toBe(1);

    const second = randomSecret('token-v2');
    await put('/noxus/prod/worker/token', second, 'SecureString');
    await waitForStarts(cli, 2);
    expect(childEnv(ws).token).toBe(second);
    await waitForReads(cli, 'GetParametersByPath', 3);
    expect(starts(cli)).toBe(2);

    await aws.ssm.send(new DeleteParameterCommand({ Name: '/noxus/prod/worker/token' }));
    await cli.waitFor((c) => logText(c.stderr).includes('no parameters under "/noxus/prod/worker"'), 'the empty-hierarchy error');
    expect(starts(cli)).toBe(2);
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain(HOST.accessKeyId);
  });

  it("assumes a role through moto's STS, reads the role account's parameters, and prefers endpoint: over AWS_ENDPOINT_URL_SSM", async () => {
    const token = randomSecret('pool-token');
    const asRole = await motoClientsAsRole(moto.endpoint, HOST, ROLE);
    try {
      await put('/noxus/pools/finance/bank-token', token, 'SecureString', asRole);
    } finally {
      asRole.destroy();
    }
    const ws = workspace(`sources:
  finance:
    type: aws-ssm
    path: /noxus/pools/finance
    endpoint: ${proxy.endpoint}
    roleArn: ${ROLE}
    upcase: true`);
    proxy.requests.length = 0;

    // The variable names a port nothing listens on: only the configured endpoint can answer.
    expect(await revealed(ws, cliEnv({ ssmEndpoint: 'http://127.0.0.1:9' }))).toEqual({ BANK_TOKEN: token });
    expect(proxy.requests.filter((entry) => entry.action === 'AssumeRole').map((entry) => entry.roleArn)).toEqual([ROLE]);
  });

  it('backs off while throttled (fewer calls than refreshes), keeps the last good values, and recovers with one restart', async () => {
    const first = randomSecret('token-v1');
    await put('/noxus/prod/worker/token', first, 'SecureString');
    const ws = workspace(hierarchy());
    const cli = run(ws);
    await waitForStarts(cli, 1);

    const throttledAt = Date.now();
    proxy.faults.inject({ kind: 'throttle', action: 'GetParametersByPath' });
    const rotated = randomSecret('token-v2');
    await put('/noxus/prod/worker/token', rotated, 'SecureString');
    await cli.waitFor((c) => (logText(c.stderr).match(/backing off for/g)?.length ?? 0) >= 3, 'three throttling back-offs', 60_000);
    const throttledCalls = (): number => proxy.count('GetParametersByPath', { ok: false });
    const refusals = (c: RunningCli): number => logText(c.stderr).match(/not asking again for/g)?.length ?? 0;
    expect(throttledCalls()).toBeLessThan((Date.now() - throttledAt) / 300);
    // Refreshes keep coming due every 300 ms; while backing off the source answers them without calling AWS.
    const callsBefore = throttledCalls();
    const refusedBefore = refusals(cli);
    await cli.waitFor((c) => refusals(c) >= refusedBefore + 3, 'three refreshes refused without a call', 30_000);
    expect(throttledCalls() - callsBefore).toBeLessThanOrEqual(1);
    expect(starts(cli)).toBe(1);
    expect(childEnv(ws).token).toBe(first);

    proxy.faults.clear();
    await waitForStarts(cli, 2, 60_000);
    expect(childEnv(ws).token).toBe(rotated);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  }, 150_000);

  it('exits 77 at once on AccessDenied at start-up, naming the source, the path and the permission to grant', async () => {
    await put('/noxus/prod/worker/token', randomSecret('token'), 'SecureString');
    // moto answers its IAM denials in XML on this JSON API; the proxy answers as AWS does.
    proxy.faults.inject({ kind: 'accessDenied', action: 'GetParametersByPath' });
    const ws = workspace(hierarchy(), '30s');
    const started = Date.now();

    const result = await runCli(['run', '-c', ws.config, '--', ...ws.child], { cwd: ws.dir, env: cliEnv() });

    expect(result.code).toBe(77);
    expect(Date.now() - started).toBeLessThan(15_000);
    const text = logText(result.stderr);
    expect(text).toContain('aws-ssm source "worker"');
    expect(text).toContain('AccessDeniedException');
    expect(text).toContain('ssm:GetParametersByPath');
    expect(result.stdout).not.toContain('child-ready');
  });
});
