import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../src/config/schema.js';
import { ConfigError, SecretDataError } from '../../../src/errors.js';
import { buildPlan, type Plan } from '../../../src/render/build-plan.js';
import type { ResolvedSecret } from '../../../src/scope/merge-layers.js';
import { SecretValue } from '../../../src/secret-value.js';
import { finalizedConfig } from '../../helpers/finalized-config.js';
import { randomSecret } from '../../helpers/secrets.js';
import { thrownBy } from '../../helpers/thrown.js';

const APP_SECRET = randomSecret('app');
const TEMPLATE_ONLY = randomSecret('template-only');
const VAULT_TOKEN = randomSecret('vault-token');
const AWS_SECRET = randomSecret('aws-secret');

// secretvisor's own environment: its credentials and settings, and what a child may inherit.
const PARENT_ENV = {
  PATH: '/usr/bin:/bin',
  KEEP_ME: 'kept',
  APP_SECRET: 'from the parent',
  VAULT_TOKEN,
  VAULT_ADDR: 'http://127.0.0.1:1',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  SECRETVISOR_LOG_LEVEL: 'info',
  NOTIFY_SOCKET: '/run/systemd/notify',
  WATCHDOG_USEC: '1000000',
};
const OWN_CREDENTIALS = ['VAULT_TOKEN', 'VAULT_ADDR', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'SECRETVISOR_LOG_LEVEL', 'NOTIFY_SOCKET', 'WATCHDOG_USEC'];

function resolved(value: string, asEnv = true): ResolvedSecret {
  return { value: new SecretValue(value), source: asEnv ? 'app' : 'templates', scope: 'global', asEnv, overrides: [] };
}

const SECRETS = new Map([
  ['APP_SECRET', resolved(APP_SECRET)],
  ['TEMPLATE_ONLY', resolved(TEMPLATE_ONLY, false)],
]);

function plan(raw: Omit<Partial<RawConfig>, 'version'> = {}, parentEnv: NodeJS.ProcessEnv = PARENT_ENV, secrets = SECRETS): Plan {
  return buildPlan({
    config: finalizedConfig(raw, parentEnv),
    secrets,
    envSecrets: new Map([...secrets].filter(([, secret]) => secret.asEnv)),
    parentEnv,
    runtimeDir: '/run/user/0/secretvisor.1',
    argv: ['/bin/service'],
  });
}

const envOf = (built: Plan): Record<string, string> => Object.fromEntries([...built.env].map(([name, value]) => [name, value.reveal()]));
const none = (names: readonly string[]): Record<string, undefined> => Object.fromEntries(names.map((name) => [name, undefined]));

describe('buildPlan: the environment, in override order', () => {
  it.each<[string, Omit<Partial<RawConfig>, 'version'>, Record<string, string | undefined>]>([
    ['inherit: all (the default) keeps the parent environment but never secretvisor’s own credentials', {}, { ...none(OWN_CREDENTIALS), PATH: '/usr/bin:/bin', KEEP_ME: 'kept', APP_SECRET }],
    ['inherit: none keeps nothing inherited', { inherit: 'none' }, { PATH: undefined, KEEP_ME: undefined, APP_SECRET }],
    ['inherit: [..] keeps only the names listed', { inherit: ['PATH'] }, { PATH: '/usr/bin:/bin', KEEP_ME: undefined, APP_SECRET }],
    ['inherit: [..] may list one of secretvisor’s own on purpose', { inherit: ['VAULT_ADDR'] }, { VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: undefined }],
    ['a credential mapped in with env: passes it, and only it', { env: { VAULT_ADDR: '${VAULT_ADDR}' } }, { VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: undefined }],
    ['a secret overrides an inherited variable of its name', { inherit: 'all' }, { APP_SECRET }],
    [
      'an env: entry overrides a secret, and its template fills from secrets',
      { env: { APP_SECRET: 'fixed', URL: 'x://{{secret.APP_SECRET}}@h' } },
      { APP_SECRET: 'fixed', URL: `x://${APP_SECRET}@h` },
    ],
    [
      'a template may use a template-only secret, which itself stays out of the environment',
      { env: { TOKEN_URL: 'y://{{secret.TEMPLATE_ONLY}}' } },
      { TOKEN_URL: `y://${TEMPLATE_ONLY}`, TEMPLATE_ONLY: undefined },
    ],
    [
      'a file’s path pointer overrides a secret of its name, and points into the runtime folder',
      { files: [{ path: 'tls/key.pem', template: '{{secret.APP_SECRET}}', env: 'APP_SECRET' }] },
      { APP_SECRET: '/run/user/0/secretvisor.1/tls/key.pem' },
    ],
  ])('%s', (_name, raw, expected) => {
    const env = envOf(plan(raw));
    for (const [name, value] of Object.entries(expected)) expect(env[name], name).toBe(value);
  });
});

describe('buildPlan: files', () => {
  it('renders each file with its mode (0400 unless given), relative to the runtime folder', () => {
    const built = plan({
      files: [
        { path: 'app/creds.ini', template: 'secret={{secret.APP_SECRET}}\n', mode: '0440' },
        { path: 'only.txt', template: '{{secret.TEMPLATE_ONLY}}' },
      ],
    });
    expect(built.files.map((file) => ({ path: file.path, mode: file.mode, content: file.content.reveal() }))).toEqual([
      { path: 'app/creds.ini', mode: 0o440, content: `secret=${APP_SECRET}\n` },
      { path: 'only.txt', mode: 0o400, content: TEMPLATE_ONLY },
    ]);
  });
});

describe('buildPlan: refusals', () => {
  it.each<[string, () => Plan, typeof ConfigError | typeof SecretDataError, string]>([
    [
      'an env: template naming a secret no source yields',
      () => plan({ env: { X: '{{secret.NOPE}}' } }),
      ConfigError,
      "env.X refers to {{secret.NOPE}}, but no source in this service's scopes yields NOPE",
    ],
    ['a file template naming a secret no source yields', () => plan({ files: [{ path: 'a.txt', template: '{{secret.NOPE}}' }] }), ConfigError, 'files[0] (a.txt) refers to {{secret.NOPE}}'],
    [
      'a value the kernel would refuse as one env entry',
      () => plan({}, {}, new Map([['BIG', resolved('x'.repeat(128 * 1024))]])),
      SecretDataError,
      'the kernel refuses a single env entry of 128 KiB or more',
    ],
    ['a value with a NUL byte', () => plan({}, {}, new Map([['NUL', resolved('a\0b')]])), SecretDataError, 'the value of NUL contains a NUL byte'],
  ])('refuses %s', (_name, build, kind, message) => {
    const error = thrownBy(build);
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toContain(message);
  });
});

describe('buildPlan: digests', () => {
  it.each<[string, Omit<Partial<RawConfig>, 'version'>, NodeJS.ProcessEnv, { env: boolean; files: boolean }]>([
    ['the same inputs give the same digests', { files: [{ path: 'a.txt', template: '{{secret.APP_SECRET}}' }] }, PARENT_ENV, { env: true, files: true }],
    ['another inherited value changes the env digest only', { files: [{ path: 'a.txt', template: '{{secret.APP_SECRET}}' }] }, { ...PARENT_ENV, KEEP_ME: 'changed' }, { env: false, files: true }],
    ['another value of a variable not inherited changes neither', { inherit: 'none' }, { ...PARENT_ENV, KEEP_ME: 'changed' }, { env: true, files: true }],
  ])('%s', (_name, raw, parentEnv, same) => {
    const [before, after] = [plan(raw), plan(raw, parentEnv)];
    expect(before.envDigest === after.envDigest).toBe(same.env);
    expect(before.filesDigest === after.filesDigest).toBe(same.files);
  });
});
