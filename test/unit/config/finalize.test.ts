import { describe, expect, it } from 'vitest';
import type { Config, VaultSourceConfig } from '../../../src/config/config.js';
import { finalizeConfig } from '../../../src/config/finalize.js';
import type { RawConfig, RawSource } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';

const FILE = '/etc/app/secretvisor.yaml';

function finalize(extra: Partial<RawConfig> = {}, env: NodeJS.ProcessEnv = {}): Config {
  return finalizeConfig({ version: 1, sources: { app: { type: 'dotenv', path: 'app.env' } }, ...extra }, { file: FILE, env, cwd: '/' });
}

function finalizeSource(source: RawSource, env: NodeJS.ProcessEnv = {}): Config['sources'] extends ReadonlyMap<string, infer S> ? S : never {
  return finalize({ sources: { one: source } }, env).sources.get('one') as never;
}

function vaultAuthOf(auth: Extract<RawSource, { type: 'vault' }>['auth'], env: NodeJS.ProcessEnv = {}): VaultSourceConfig['auth'] {
  return (finalizeSource({ type: 'vault', address: 'https://vault:8200', path: 'kv/app', ...(auth === undefined ? {} : { auth }) }, env) as VaultSourceConfig).auth;
}

describe('finalizeConfig: every default of the top-level sections', () => {
  it.each([
    ['permissions', (c: Config) => c.sources.get('app')?.permissions, 'strict'],
    ['inherit', (c: Config) => c.inherit, 'all'],
    ['onExit', (c: Config) => c.onExit, 'exit'],
    ['onChange.env', (c: Config) => c.onChange.env, 'restart'],
    ['onChange.files', (c: Config) => c.onChange.files, 'signal'],
    ['onChange.signal', (c: Config) => c.onChange.signal, 'SIGHUP'],
    ['onChange.stopSignal', (c: Config) => c.onChange.stopSignal, 'SIGTERM'],
    ['onChange.stopTimeout', (c: Config) => c.onChange.stopTimeoutMs, 10_000],
    ['onChange.debounce', (c: Config) => c.onChange.debounceMs, 250],
    ['onChange.splay', (c: Config) => c.onChange.splayMs, 0],
    ['onChange.strategy', (c: Config) => c.onChange.strategy, 'restart'],
    ['startup.timeout', (c: Config) => c.startupTimeoutMs, 60_000],
    ['startup.splay', (c: Config) => c.startupSplayMs, 0],
    ['scopes (every source global)', (c: Config) => c.scopes.global, ['app']],
    ['listen', (c: Config) => c.listen, []],
    ['cache', (c: Config) => c.cache, undefined],
    ['metrics', (c: Config) => c.metrics, undefined],
    ['ready', (c: Config) => c.ready, undefined],
  ] as const)('%s', (_key, pick, expected) => {
    expect(pick(finalize())).toEqual(expected);
  });

  it.each([
    ['files[].mode', (c: Config) => c.files[0]?.mode, 0o400, { files: [{ path: 'key', template: 'x' }] }],
    ['ready.timeout', (c: Config) => c.ready?.timeoutMs, 30_000, { ready: { tcp: '127.0.0.1:8080' } }],
    ['ready.interval', (c: Config) => c.ready?.intervalMs, 200, { ready: { tcp: '127.0.0.1:8080' } }],
    ['listen[].backlog of a TCP socket', (c: Config) => c.listen[0], { kind: 'tcp', name: 'http', host: '127.0.0.1', port: 8080, backlog: 511 }, { listen: [{ name: 'http', tcp: '127.0.0.1:8080' }] }],
    [
      'listen[].mode and backlog of a unix socket',
      (c: Config) => c.listen[0],
      { kind: 'unix', name: 'http', path: '/etc/app/app.sock', mode: 0o660, user: undefined, group: undefined, backlog: 511 },
      {
        listen: [{ name: 'http', unix: 'app.sock' }],
      },
    ],
    [
      'a source onChange: signal takes onChange.signal',
      (c: Config) => c.sources.get('app')?.onChange,
      { action: 'signal', signal: 'SIGUSR1' },
      {
        sources: { app: { type: 'dotenv', path: 'app.env', onChange: 'signal' } },
        onChange: { signal: 'SIGUSR1' },
      },
    ],
  ] as const)('%s', (_key, pick, expected, extra) => {
    expect(pick(finalize(extra as Partial<RawConfig>))).toEqual(expected);
  });
});

describe('finalizeConfig: every default of a source', () => {
  const vault = { type: 'vault', address: 'https://vault:8200', path: 'kv/app' } as const;
  it.each([
    [
      'a file source: path against the config folder',
      { type: 'dotenv', path: 'app.env' },
      { path: '/etc/app/app.env', refreshMs: 60_000, prefix: '', required: [], sanitize: false, upcase: false, asEnv: true, onChange: undefined, generate: new Map() },
    ],
    ['a directory source: refresh', { type: 'directory', path: '/run/secrets' }, { path: '/run/secrets', refreshMs: 60_000 }],
    ['a vault source', vault, { refreshMs: 300_000, timeoutMs: 10_000, maxResponseBytes: 1024 ** 2, revokeOnExit: false, redirectOrigins: new Set(), namespace: undefined, caCert: undefined }],
    [
      'a vault pki source: mount, renewBefore, asEnv',
      { ...vault, path: undefined, pki: { role: 'web', commonName: 'a.example' } },
      {
        path: 'pki/issue/web',
        asEnv: false,
        pki: { mount: 'pki', role: 'web', commonName: 'a.example', altNames: [], ipSans: [], ttlSeconds: undefined, renewBeforeMs: 60_000 },
      },
    ],
    ['an aws-secrets-manager source', { type: 'aws-secrets-manager', secretId: 'app' }, { refreshMs: 300_000, versionStage: 'AWSCURRENT', maxResponseBytes: 1024 ** 2 }],
    ['an aws-ssm source', { type: 'aws-ssm', path: '/app/' }, { refreshMs: 900_000, path: '/app', recursive: false, maxResponseBytes: 1024 ** 2 }],
  ] as const)('%s', (_what, source, expected) => {
    expect(finalizeSource(source as RawSource)).toMatchObject(expected);
  });

  it('generates base64url when a bytes key names no encoding', () => {
    const source = finalizeSource({ type: 'dotenv', path: 'app.env', generate: { KEY: { bytes: 32 } } });
    expect('generate' in source && source.generate.get('KEY')).toEqual({ kind: 'bytes', bytes: 32, encoding: 'base64url' });
  });

  it.each([
    ['address', { type: 'vault', path: 'kv/app' }, { VAULT_ADDR: 'https://from-env:8200' }, { address: 'https://from-env:8200' }],
    ['namespace', vault, { VAULT_NAMESPACE: 'platform' }, { namespace: 'platform' }],
    ['caCert, against the config folder', vault, { VAULT_CACERT: 'ca.pem' }, { caCert: '/etc/app/ca.pem' }],
  ] as const)('a vault source takes its %s from the environment', (_key, source, env, expected) => {
    expect(finalizeSource(source as RawSource, env)).toMatchObject(expected);
  });
});

describe('finalizeConfig: Vault auth defaults', () => {
  it.each([
    ['no auth: token, ~/.vault-token under HOME', undefined, { HOME: '/home/app' }, { method: 'token', tokenFile: undefined, homeTokenFile: '/home/app/.vault-token' }],
    [
      'token with a tokenFile, against the config folder',
      { method: 'token', tokenFile: 'token' },
      { HOME: '/home/app' },
      { method: 'token', tokenFile: '/etc/app/token', homeTokenFile: '/home/app/.vault-token' },
    ],
    ['approle: mount', { method: 'approle', roleId: 'r' }, {}, { method: 'approle', mount: 'approle', roleId: 'r', secretIdFile: undefined }],
    [
      'approle: files against the config folder',
      { method: 'approle', roleIdFile: 'role-id', secretIdFile: '/run/secret-id', mount: 'apps' },
      {},
      {
        method: 'approle',
        mount: 'apps',
        roleIdFile: '/etc/app/role-id',
        secretIdFile: '/run/secret-id',
      },
    ],
    [
      'kubernetes: mount and the service-account token',
      { method: 'kubernetes', role: 'worker' },
      {},
      {
        method: 'kubernetes',
        role: 'worker',
        mount: 'kubernetes',
        jwtFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      },
    ],
    [
      'kubernetes: a jwtFile against the config folder',
      { method: 'kubernetes', role: 'worker', jwtFile: 'jwt' },
      {},
      { method: 'kubernetes', role: 'worker', mount: 'kubernetes', jwtFile: '/etc/app/jwt' },
    ],
    ['jwt: mount', { method: 'jwt', role: 'ci', jwtFile: '/run/jwt' }, {}, { method: 'jwt', role: 'ci', mount: 'jwt', jwtFile: '/run/jwt' }],
    [
      'aws: mount, the global STS endpoint signed for us-east-1',
      { method: 'aws', role: 'r' },
      {},
      {
        method: 'aws',
        role: 'r',
        mount: 'aws',
        region: 'us-east-1',
        stsEndpoint: 'https://sts.amazonaws.com',
        headerValue: undefined,
      },
    ],
    ['aws with a region: the regional endpoint (the SDK picks it)', { method: 'aws', role: 'r', region: 'eu-central-1' }, {}, { region: 'eu-central-1', stsEndpoint: undefined }],
    ['aws: AWS_ENDPOINT_URL_STS', { method: 'aws', role: 'r', region: 'eu-central-1' }, { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566' }, { stsEndpoint: 'http://127.0.0.1:4566' }],
    ['aws: an empty AWS_ENDPOINT_URL_STS is unset', { method: 'aws', role: 'r' }, { AWS_ENDPOINT_URL_STS: '' }, { stsEndpoint: 'https://sts.amazonaws.com' }],
    [
      'aws: stsEndpoint wins over AWS_ENDPOINT_URL_STS',
      { method: 'aws', role: 'r', stsEndpoint: 'https://sts.internal' },
      { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566' },
      { stsEndpoint: 'https://sts.internal' },
    ],
  ] as const)('%s', (_what, auth, env, expected) => {
    expect(vaultAuthOf(auth as never, env)).toMatchObject(expected);
  });

  it.each([
    ['neither', {}],
    ['both', { roleId: 'a', roleIdFile: '/r' }],
  ])('approle with %s of roleId and roleIdFile is a ConfigError (exit 78) naming the source', (_what, ids) => {
    const call = () => vaultAuthOf({ method: 'approle', ...ids });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/^sources\.one\.auth: approle needs exactly one of roleId and roleIdFile$/);
  });
});
