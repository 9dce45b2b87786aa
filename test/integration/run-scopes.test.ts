import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { randomSecret } from '../helpers/secrets.js';
import { FIXTURES, makeProject } from '../helpers/project.js';

const secrets = {
  db: randomSecret('db'),
  workerKey: randomSecret('worker-key'),
  poolKey: randomSecret('pool-key'),
  poolToken: randomSecret('pool-token'),
  shared: randomSecret('shared-global'),
};

const CONFIG = `
version: 1
sources:
  platform: { type: dotenv, path: platform.env }
  worker-keys: { type: directory, path: worker, upcase: true }
  finance: { type: dotenv, path: finance.env }
scopes:
  global: [platform]
  services:
    frontend: []
    worker: [worker-keys]
  pools:
    worker:
      finance: [finance]
env:
  DATABASE_URL: "postgres://app:{{secret.DB_PASSWORD}}@db/app"
`;

function platformProject(): string {
  return makeProject({
    'secretvisor.yaml': CONFIG,
    'platform.env': `DB_PASSWORD=${secrets.db}\nSHARED=${secrets.shared}\n`,
    'worker/llm-api-key': `${secrets.workerKey}\n`,
    'worker/shared': secrets.shared,
    'finance.env': `LLM_API_KEY=${secrets.poolKey}\nBANKING_TOKEN=${secrets.poolToken}\n`,
  });
}

async function envOf(dir: string, args: string[]): Promise<Record<string, string>> {
  const out = join(dir, 'env.json');
  const result = await runCli(['run', '--once', ...args, '--', process.execPath, FIXTURES.printEnv, out], { cwd: dir });
  expect(result.stderr).not.toContain('"level":50');
  expect(result.code).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
}

describe('scopes: each service receives exactly its own secrets', () => {
  it.each<[string, string[], Record<string, string | undefined>]>([
    [
      'gives the frontend only global secrets, never worker-only or pool secrets',
      ['--service', 'frontend'],
      { DB_PASSWORD: secrets.db, DATABASE_URL: `postgres://app:${secrets.db}@db/app`, LLM_API_KEY: undefined, BANKING_TOKEN: undefined },
    ],
    ['gives a worker global and worker-only secrets, but no pool secrets', ['--service', 'worker'], { DB_PASSWORD: secrets.db, LLM_API_KEY: secrets.workerKey, BANKING_TOKEN: undefined }],
    [
      'lets the pool override the service, and the service the global scope',
      ['--service', 'worker', '--pool', 'finance'],
      { LLM_API_KEY: secrets.poolKey, BANKING_TOKEN: secrets.poolToken, SHARED: secrets.shared, DB_PASSWORD: secrets.db },
    ],
  ])('%s', async (_name, args, expected) => {
    const env = await envOf(platformProject(), args);
    for (const [key, value] of Object.entries(expected)) expect(env[key], key).toBe(value);
  });

  it('takes --service and --pool from SECRETVISOR_SERVICE and SECRETVISOR_POOL', async () => {
    const dir = platformProject();
    const out = join(dir, 'env.json');
    const result = await runCli(['run', '--once', '--', process.execPath, FIXTURES.printEnv, out], {
      cwd: dir,
      env: baseEnv({ SECRETVISOR_SERVICE: 'worker', SECRETVISOR_POOL: 'finance' }),
    });
    expect(result.code).toBe(0);
    const env = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
    expect(env.BANKING_TOKEN).toBe(secrets.poolToken);
    expect(env.SECRETVISOR_SERVICE).toBeUndefined();
  });

  it.each([
    [['--service', 'nope'], 'unknown service "nope"', 'frontend, worker'],
    [['--service', 'worker', '--pool', 'nope'], 'unknown pool "nope" of service "worker"', 'finance'],
    [['--pool', 'finance'], '--pool finance needs --service', '--service'],
  ])('refuses %j with exit 64 and the known names', async (args, message, known) => {
    const dir = platformProject();
    const result = await runCli(['run', ...args, '--', '/bin/true'], { cwd: dir });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain(known);
  });

  it('reads only the sources of its own scopes: a frontend starts even when worker secrets are unsafe or broken', async () => {
    const env = await envOf(
      makeProject({
        'secretvisor.yaml': CONFIG,
        'platform.env': `DB_PASSWORD=${secrets.db}\n`,
        'worker/llm-api-key': { content: 'x', mode: 0o644 },
        'finance.env': { content: 'broken line', mode: 0o644 },
      }),
      ['--service', 'frontend'],
    );
    expect(env.DB_PASSWORD).toBe(secrets.db);
  });
});
