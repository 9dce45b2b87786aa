import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { randomSecret } from '../helpers/secrets.js';
import { FIXTURES, makeProject } from '../helpers/project.js';

const vaultToken = randomSecret('vault-token');
const awsSecret = randomSecret('aws-secret');
const appSecret = randomSecret('app');

const OWN_CREDENTIALS = {
  VAULT_TOKEN: vaultToken,
  VAULT_ADDR: 'http://127.0.0.1:1',
  VAULT_ROLE_ID: 'role',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: awsSecret,
  AWS_SESSION_TOKEN: randomSecret('aws-session'),
  SECRETVISOR_LOG_LEVEL: 'info',
  NOTIFY_SOCKET: '/run/systemd/notify',
  WATCHDOG_USEC: '1000000',
};

async function childEnv(config: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Record<string, string>> {
  const dir = makeProject({ 'secretvisor.yaml': config, 'app.env': `APP_SECRET=${appSecret}\n` });
  const out = join(dir, 'env.json');
  const result = await runCli(['run', '--once', '--', process.execPath, FIXTURES.printEnv, out], {
    cwd: dir,
    env: baseEnv({ ...OWN_CREDENTIALS, KEEP_ME: 'kept', ...extraEnv }),
  });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
}

const SOURCES = `
version: 1
sources:
  app: { type: dotenv, path: app.env }
`;

describe("the child's environment", () => {
  it('never receives secretvisor’s own credentials with inherit: all', async () => {
    const env = await childEnv(SOURCES);
    for (const name of Object.keys(OWN_CREDENTIALS)) expect(env[name], name).toBeUndefined();
    expect(env.KEEP_ME).toBe('kept');
    expect(env.APP_SECRET).toBe(appSecret);
  });

  it('keeps nothing inherited with inherit: none', async () => {
    const env = await childEnv(`${SOURCES}inherit: none\n`);
    expect(env.KEEP_ME).toBeUndefined();
    expect(env.PATH).toBeUndefined();
    expect(env.APP_SECRET).toBe(appSecret);
  });

  it('keeps only the listed names with inherit: [..]', async () => {
    const env = await childEnv(`${SOURCES}inherit: [PATH]\n`);
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.KEEP_ME).toBeUndefined();
  });

  it('passes a credential only when the config maps it in explicitly', async () => {
    const env = await childEnv(`${SOURCES}env:\n  VAULT_ADDR: "\${VAULT_ADDR}"\n`);
    expect(env.VAULT_ADDR).toBe('http://127.0.0.1:1');
    expect(env.VAULT_TOKEN).toBeUndefined();
  });

  it('lets env: entries override secrets and fills templates', async () => {
    const env = await childEnv(`${SOURCES}env:\n  APP_SECRET: fixed\n  URL: "x://{{secret.APP_SECRET}}@h"\n`);
    expect(env.APP_SECRET).toBe('fixed');
    expect(env.URL).toBe(`x://${appSecret}@h`);
  });
});
