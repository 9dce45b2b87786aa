import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';
import { startAwsServer, type AwsServer } from '../servers/aws-server.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';

// What moto cannot do for `auth: { method: aws }` (test/real/vault-aws-auth-moto.test.ts):
// check a SigV4 signature. The project's AWS server does, as STS does, so a
// request signed with the wrong secret key is refused by "STS", and Vault's
// refusal of the login ends start-up at once with 77.

const KEY_ID = randomSecret('AKIAVAULTAWS');
const SECRET_KEY = randomSecret('vault-aws-secret-key');
const HOST_ARN = 'arn:aws:iam::123456789012:user/worker-host';

let vault: VaultServer;
let aws: AwsServer;

beforeAll(async () => {
  [vault, aws] = await Promise.all([startVaultServer(), startAwsServer({ users: [{ name: 'worker-host', accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY }] })]);
  vault.tokens.addAwsRole({ role: 'worker', boundIamPrincipalArns: [HOST_ARN], stsEndpoint: aws.endpoint });
  vault.secrets.putKv2('secret', 'app/aws', { VALUE: randomSecret('value') });
});

afterAll(async () => {
  await Promise.all([vault.stop(), aws.stop()]);
});

function project(): { dir: string; config: string } {
  const dir = tempDir('sv-vault-aws-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(
    config,
    `version: 1\nsources:\n  core:\n    type: vault\n    address: ${vault.address}\n    path: secret/data/app/aws\n` +
      `    auth: { method: aws, role: worker, stsEndpoint: "${aws.endpoint}" }\nstartup: { timeout: 60s }\n`,
  );
  return { dir, config };
}

const env = (secretAccessKey: string): NodeJS.ProcessEnv => baseEnv({ ...awsSdkEnv({ accessKeyId: KEY_ID, secretAccessKey }), SECRETVISOR_LOG_FORMAT: 'json' });

describe('vault aws auth against an STS that checks signatures', () => {
  it('a request signed with the right key logs in; STS saw one GetCallerIdentity, signed by the host', async () => {
    const p = project();
    const before = aws.requestLog.entries.length;
    const result = await runCli(['check', '-c', p.config], { cwd: p.dir, env: env(SECRET_KEY) });
    expect(result.code, result.stderr).toBe(0);
    const calls = aws.requestLog.entries.slice(before);
    expect(calls.map((call) => [call.action, call.status, call.principal])).toEqual([['GetCallerIdentity', 200, HOST_ARN]]);
  });

  it('a signature STS rejects: exit 77 at once, naming the aws login and the upstream refusal', async () => {
    const p = project();
    const started = Date.now();
    const result = await runCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: env(randomSecret('wrong-secret-key')) });
    expect(result.code, result.stderr).toBe(77);
    // startup.timeout is 60 s: an exit well before it did not wait for the refusal to pass.
    expect(Date.now() - started).toBeLessThan(20_000);
    const text = logText(result.stderr);
    expect(text).toContain('vault source "core": Vault refused the aws login at auth/aws/login (role worker): 400 error making upstream request');
    expect(text).toContain('SignatureDoesNotMatch');
  });
});
