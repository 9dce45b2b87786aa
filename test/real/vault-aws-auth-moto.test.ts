import { join } from 'node:path';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES } from '../helpers/project.js';
import { randomSecret, trackSecret } from '../helpers/secrets.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';
import { hostCredentials, MOTO_REGION, motoClients, type MotoClients, type TestCredentials } from './moto/moto-clients.js';
import { startMoto, type MotoServer } from './moto/moto-server.js';
import { cliEnv, startRun, starts, startValues, stopRun, waitForStarts, waitUntil, workspace } from './openbao/workspace.js';
import { INSTALL_HINT, pythonTool } from './tools/python-env.js';
import { describeReal } from './tools/require-tool.js';

// `auth: { method: aws }` through the built CLI, with moto as STS. OpenBao has
// no aws auth method any more (OpenBao 2.0 moved it out of the binary into the
// external openbao-plugins, which the machines here cannot install: see
// docs/vault.md), so the Vault side is the project's test server, doing what
// OpenBao's plugin does: it checks the four iam_* fields, the signed
// X-Vault-AWS-IAM-Server-ID header and the allowed X-Amz-* headers, replays
// the signed sts:GetCallerIdentity request to moto with the Host the client
// signed, and binds the principal moto names. secretvisor's side is real: the
// AWS SDK's default credential chain, its SigV4 signer, and moto's STS.

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const HOST = hostCredentials();
const ACCOUNT = '123456789012';
const WORKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/noxus-worker`;
const SERVER_ID = 'vault.secretvisor.test';

let moto: MotoServer;
let aws: MotoClients;
let vault: VaultServer;
let secretPath: string;
let value: string;

/** Credentials of `roleArn` as an EC2 instance profile would give them (AssumeRole's, with a session token). */
async function roleCredentials(roleArn: string, session: string): Promise<TestCredentials> {
  const { Credentials } = await aws.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session }));
  if (Credentials?.AccessKeyId === undefined || Credentials.SecretAccessKey === undefined || Credentials.SessionToken === undefined) {
    throw new Error(`moto gave no credentials for ${roleArn}`);
  }
  return {
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: trackSecret(Credentials.SecretAccessKey),
    sessionToken: trackSecret(Credentials.SessionToken),
  };
}

/** secretvisor's environment with `credentials` for the SDK's chain and nothing else of AWS (no profile, no instance metadata). */
function awsEnv(credentials: TestCredentials, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = awsSdkEnv({ accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, region: MOTO_REGION });
  return { ...env, ...(credentials.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: credentials.sessionToken }), ...extra };
}

const awsSource = (auth = ''): string =>
  `  core:\n    type: vault\n    address: ${vault.address}\n    path: ${secretPath}\n    auth:\n      method: aws\n      role: worker\n      headerValue: ${SERVER_ID}${auth}`;

describeReal('Vault aws auth with moto as STS (real SDK signing, real CLI)', { tools: { moto_server: pythonTool('moto_server') }, install: INSTALL_HINT }, () => {
  beforeAll(async () => {
    moto = await startMoto(pythonTool('moto_server') as string);
    aws = motoClients(moto.endpoint, HOST);
    vault = await startVaultServer();
    value = randomSecret('value');
    vault.secrets.putKv2('secret', 'app/aws', { VALUE: value });
    secretPath = 'secret/data/app/aws';
    // Short TTLs: the test sees renewals, then the login the max TTL forces.
    vault.tokens.addAwsRole({
      role: 'worker',
      boundIamPrincipalArns: [WORKER_ROLE],
      stsEndpoint: moto.endpoint,
      iamServerIdHeaderValue: SERVER_ID,
      tokenTtl: 3,
      tokenMaxTtl: 9,
    });
  }, 90_000);

  afterAll(async () => {
    aws?.destroy();
    await vault?.stop();
    await moto?.stop();
  });

  it('logs in as the instance role by a signed sts:GetCallerIdentity, gives the child the secret, renews, and signs anew at each login', async () => {
    const credentials = await roleCredentials(WORKER_ROLE, 'i-0123456789abcdef0');
    const ws = workspace(awsSource());
    const loginsBefore = vault.tokens.awsLogins.length;
    const cli = startRun(ws, { ...cliEnv(ws, ['VALUE', 'AWS_SESSION_TOKEN', 'AWS_SECRET_ACCESS_KEY']), ...awsEnv(credentials) });
    await waitForStarts(cli, ws, 1);
    // The child gets the Vault secret, not the host's AWS credentials (secretvisor's own environment is not passed on).
    expect(startValues(ws)).toEqual([{ VALUE: value, AWS_SESSION_TOKEN: null, AWS_SECRET_ACCESS_KEY: null }]);
    // No endpoint configured: signed for the global endpoint, Vault's default sts_endpoint; moto answered as STS.
    expect(vault.tokens.awsLogins.slice(loginsBefore)).toEqual([{ signedUrl: 'https://sts.amazonaws.com/', arn: WORKER_ROLE }]);
    await waitUntil(() => vault.requestLog.count({ path: 'auth/token/renew-self', status: 200 }) >= 1, 'a renewal of the aws-issued token', 45_000, cli);
    await waitUntil(() => vault.tokens.awsLogins.length >= loginsBefore + 2, 'the login the max TTL forces', 60_000, cli);
    expect(starts(ws)).toBe(1);
    expect(await stopRun(cli)).toBe(0);
    // stderr is secretvisor's JSON log alone: the SDK's multi-line Node-version warning is kept out of it.
    expect(cli.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'))).toEqual([]);
  });

  it('signs for stsEndpoint (or AWS_ENDPOINT_URL_STS) when set, with its region', async () => {
    const credentials = await roleCredentials(WORKER_ROLE, 'i-0fedcba9876543210');
    const viaKey = workspace(awsSource(`\n      region: ${MOTO_REGION}\n      stsEndpoint: ${moto.endpoint}`));
    const before = vault.tokens.awsLogins.length;
    const checked = await runCli(['check', '-c', viaKey.config], { cwd: viaKey.dir, env: { ...cliEnv(viaKey, []), ...awsEnv(credentials) } });
    expect(checked.code, checked.stderr).toBe(0);
    const viaEnv = workspace(awsSource());
    const env = { ...cliEnv(viaEnv, []), ...awsEnv(credentials, { AWS_ENDPOINT_URL_STS: moto.endpoint }) };
    const checkedEnv = await runCli(['check', '-c', viaEnv.config], { cwd: viaEnv.dir, env });
    expect(checkedEnv.code, checkedEnv.stderr).toBe(0);
    expect(vault.tokens.awsLogins.slice(before).map((login) => login.signedUrl)).toEqual([`${moto.endpoint}/`, `${moto.endpoint}/`]);
  });

  it('a principal the role does not bind: run exits 77 at start-up naming the source, the aws login and the principal', async () => {
    const intruder = await roleCredentials(`arn:aws:iam::${ACCOUNT}:role/frontend`, 'i-0aaaaaaaaaaaaaaaa');
    const ws = workspace(awsSource(), { startupTimeout: '30s' });
    const started = Date.now();
    const result = await runCli(['run', '-c', ws.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: ws.dir, env: { ...cliEnv(ws, ['VALUE']), ...awsEnv(intruder) } });
    expect(result.code, result.stderr).toBe(77);
    expect(Date.now() - started).toBeLessThan(25_000);
    const text = logText(result.stderr);
    expect(text).toContain('vault source "core": Vault refused the aws login at auth/aws/login (role worker): 400');
    expect(text).toContain(`IAM Principal "arn:aws:iam::${ACCOUNT}:role/frontend" does not belong to the role "worker"`);
    expect(text).toContain('bound_iam_principal_arn');
    expect(starts(ws)).toBe(0);
  });

  it('a wrong headerValue and an unknown role are refused with 77; the signed header is what Vault checks', async () => {
    const credentials = await roleCredentials(WORKER_ROLE, 'i-0bbbbbbbbbbbbbbbb');
    const wrongHeader = workspace(`  core:\n    type: vault\n    address: ${vault.address}\n    path: ${secretPath}\n    auth: { method: aws, role: worker, headerValue: other-vault }`);
    const header = await runCli(['check', '-c', wrongHeader.config], { cwd: wrongHeader.dir, env: { ...cliEnv(wrongHeader, []), ...awsEnv(credentials) } });
    expect(header.code, header.stderr).toBe(77);
    expect(logText(header.stderr)).toContain(`error validating X-Vault-AWS-IAM-Server-ID header: expected "${SERVER_ID}" but got "other-vault"`);

    const unknownRole = workspace(`  core:\n    type: vault\n    address: ${vault.address}\n    path: ${secretPath}\n    auth: { method: aws, role: nobody, headerValue: ${SERVER_ID} }`);
    const role = await runCli(['check', '-c', unknownRole.config], { cwd: unknownRole.dir, env: { ...cliEnv(unknownRole, []), ...awsEnv(credentials) } });
    expect(role.code, role.stderr).toBe(77);
    expect(logText(role.stderr)).toContain('entry for role nobody not found');
  });

  it('no AWS credentials anywhere: not a refusal but an outage (exit 69 after the start-up timeout), saying where credentials come from', async () => {
    const ws = workspace(awsSource(), { startupTimeout: '3s' });
    const env = {
      ...cliEnv(ws, []),
      AWS_CONFIG_FILE: join(ws.dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(ws.dir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env });
    expect(result.code, result.stderr).toBe(69);
    expect(logText(result.stderr)).toContain('could not sign the sts:GetCallerIdentity request of the aws login');
    expect(logText(result.stderr)).toContain('instance profile');
  });
});
