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
  it.each<[string, string, Record<string, string | undefined>]>([
    [
      'never receives secretvisor’s own credentials with inherit: all',
      SOURCES,
      { ...Object.fromEntries(Object.keys(OWN_CREDENTIALS).map((name) => [name, undefined])), KEEP_ME: 'kept', APP_SECRET: appSecret },
    ],
    ['keeps nothing inherited with inherit: none', `${SOURCES}inherit: none\n`, { KEEP_ME: undefined, PATH: undefined, APP_SECRET: appSecret }],
    ['keeps only the listed names with inherit: [..]', `${SOURCES}inherit: [PATH]\n`, { PATH: process.env.PATH, KEEP_ME: undefined }],
    ['passes a credential only when the config maps it in explicitly', `${SOURCES}env:\n  VAULT_ADDR: "\${VAULT_ADDR}"\n`, { VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: undefined }],
    ['lets env: entries override secrets and fills templates', `${SOURCES}env:\n  APP_SECRET: fixed\n  URL: "x://{{secret.APP_SECRET}}@h"\n`, { APP_SECRET: 'fixed', URL: `x://${appSecret}@h` }],
  ])('%s', async (_name, config, expected) => {
    const env = await childEnv(config);
    for (const [name, value] of Object.entries(expected)) expect(env[name], name).toBe(value);
  });
});
