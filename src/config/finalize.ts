import { constants } from 'node:os';
import { dirname, isAbsolute, normalize, resolve, sep } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseTemplate, type Template } from './template.js';
import { PROTOTYPE_NAMES, interpolateLiterals } from './interpolate.js';
import type { Config, FileOutputConfig, GeneratedKeySpec, ScopesConfig, SourceConfig, SourceCommon, SsmSourceConfig } from './config.js';
import { DEFAULTS } from './defaults.js';
import { parseDuration } from './duration.js';
import { parseSize } from './size.js';
import type { RawConfig, RawGeneratedKey, RawSource } from './schema.js';
import { finalizeListen } from '../listen/listen-config.js';
import { finalizeVaultTarget } from './finalize-vault-target.js';
import { finalizeVaultAuth } from './finalize-vault-auth.js';
import { flagAt, type ConfigFlags } from './config-flags.js';
import { formatPath } from './interpolate.js';
import { finalizeMetrics } from '../health/metrics-config.js';
import { assertNever } from '../lib/assert-never.js';
import { finalizeReady } from './readiness-config.js';

/** Inputs of {@link finalizeConfig}. */
export interface FinalizeOptions {
  /** Absolute path of the config file; relative paths in it resolve against its folder. Undefined in zero-config mode. */
  readonly file: string | undefined;
  /** secretvisor's own environment, for VAULT_ADDR and friends. */
  readonly env: NodeJS.ProcessEnv;
  /** Folder that relative paths resolve against when there is no file. */
  readonly cwd: string;
  /** The flags merged into `raw`: a problem with a key they set names the flag. */
  readonly flags?: ConfigFlags | undefined;
}

/**
 * Applies every default once and checks what the schema cannot: references
 * between sections, signal names, file output paths, templates. After this,
 * no code writes `?? default`.
 */
export function finalizeConfig(raw: RawConfig, options: FinalizeOptions): Config {
  const baseDir = options.file === undefined ? options.cwd : dirname(options.file);
  const globalPolicy = raw.permissions ?? DEFAULTS.permissions;
  const where = (...path: readonly string[]): string => {
    const flag = flagAt(path, options.flags ?? {});
    return flag === undefined ? formatPath(path) : `${flag} (${formatPath(path)})`;
  };
  const globalSignal = validateSignal(raw.onChange?.signal ?? DEFAULTS.onChange.signal, where('onChange', 'signal'));
  const sources = new Map<string, SourceConfig>(Object.entries(raw.sources).map(([name, source]) => [name, finalizeSource(name, source, { baseDir, globalPolicy, env: options.env, globalSignal })]));
  const env = new Map(Object.entries(raw.env ?? {}).map(([name, text]) => [name, interpolateTemplate(parseTemplate(text, `env.${name}`), options.env, ['env', name])]));
  const files = finalizeFiles(raw.files ?? [], env, options.env);
  const scopes = finalizeScopes(raw.scopes, sources);
  const ready = finalizeReady(raw.ready);
  const strategy = raw.onChange?.strategy ?? DEFAULTS.onChange.strategy;
  if (strategy === 'overlap' && ready === undefined) {
    throw new ConfigError('onChange.strategy is overlap, but there is no ready: check', {
      hint: 'overlap stops the old child only once the new one is ready: add ready: { tcp: … }, { http: … } or { command: […] }, or use strategy: restart',
    });
  }
  return {
    file: options.file,
    sources,
    scopes,
    env,
    files,
    inherit: raw.inherit === undefined || typeof raw.inherit === 'string' ? (raw.inherit ?? DEFAULTS.inherit) : new Set(raw.inherit),
    onChange: {
      env: raw.onChange?.env ?? DEFAULTS.onChange.env,
      files: raw.onChange?.files ?? DEFAULTS.onChange.files,
      signal: globalSignal,
      stopSignal: validateSignal(raw.onChange?.stopSignal ?? DEFAULTS.onChange.stopSignal, where('onChange', 'stopSignal')),
      stopTimeoutMs: parseDuration(raw.onChange?.stopTimeout ?? DEFAULTS.onChange.stopTimeout),
      debounceMs: parseDuration(raw.onChange?.debounce ?? DEFAULTS.onChange.debounce),
      splayMs: parseDuration(raw.onChange?.splay ?? DEFAULTS.onChange.splay),
      strategy,
    },
    onExit: raw.onExit ?? DEFAULTS.onExit,
    ready,
    startupTimeoutMs: parseDuration(raw.startup?.timeout ?? DEFAULTS.startupTimeout),
    startupSplayMs: parseDuration(raw.startup?.splay ?? DEFAULTS.startupSplay),
    user: raw.user,
    group: raw.group,
    listen: finalizeListen(raw.listen ?? [], baseDir),
    cache: finalizeCache(raw, baseDir),
    metrics: finalizeMetrics(raw.metrics, scopes),
  };
}

interface SourceDefaults {
  readonly baseDir: string;
  readonly globalPolicy: SourceCommon['permissions'];
  readonly env: NodeJS.ProcessEnv;
  /** onChange.signal, for a source whose onChange is plain `signal`. */
  readonly globalSignal: NodeJS.Signals;
}

function finalizeSource(name: string, raw: RawSource, defaults: SourceDefaults): SourceConfig {
  const remote = raw.type === 'vault' || raw.type === 'aws-secrets-manager' || raw.type === 'aws-ssm';
  const remoteRefresh = raw.type === 'aws-ssm' ? DEFAULTS.ssmRefresh : DEFAULTS.remoteRefresh;
  const common: SourceCommon = {
    name,
    keys: raw.keys === undefined ? undefined : new Map(Object.entries(raw.keys)),
    prefix: raw.prefix ?? '',
    required: raw.required ?? [],
    sanitize: (raw.sanitize ?? false) || (raw.upcase ?? false),
    upcase: raw.upcase ?? false,
    permissions: raw.permissions ?? defaults.globalPolicy,
    asEnv: raw.asEnv ?? true,
    allowNames: new Set(raw.allowNames ?? []),
    refreshMs: parseDuration(raw.refresh ?? (remote ? remoteRefresh : DEFAULTS.fileRefresh)),
    onChange: finalizeSourceChange(name, raw.onChange, defaults.globalSignal),
    cacheMaxAgeMs: remote && raw.cache !== undefined ? parseDuration(raw.cache.maxAge) : undefined,
  };
  const absolute = (path: string): string => resolve(defaults.baseDir, path);
  switch (raw.type) {
    case 'dotenv':
    case 'directory':
      return { ...common, type: raw.type, path: absolute(raw.path), generate: finalizeGenerate(name, raw.generate ?? {}) };
    case 'vault': {
      const address = raw.address ?? defaults.env.VAULT_ADDR;
      if (address === undefined || address === '') {
        throw new ConfigError(`sources.${name}: no Vault address`, { hint: `set address: on source "${name}", or VAULT_ADDR` });
      }
      const caCert = raw.caCert ?? defaults.env.VAULT_CACERT;
      const target = finalizeVaultTarget(name, raw);
      return {
        ...common,
        ...target,
        asEnv: raw.asEnv ?? target.pki === undefined,
        type: 'vault',
        address,
        namespace: raw.namespace ?? defaults.env.VAULT_NAMESPACE,
        caCert: caCert === undefined ? undefined : absolute(caCert),
        auth: finalizeVaultAuth(raw.auth ?? { method: 'token' }, { name, absolute, env: defaults.env }),
        revokeOnExit: raw.revokeOnExit ?? false,
        timeoutMs: parseDuration(raw.timeout ?? DEFAULTS.vaultTimeout),
        redirectOrigins: finalizeRedirects(name, address, raw.followRedirects ?? 'never'),
        maxResponseBytes: parseSize(raw.maxResponseSize ?? DEFAULTS.maxResponseSize),
      };
    }
    case 'aws-secrets-manager':
      if (raw.externalId !== undefined && raw.roleArn === undefined) {
        throw new ConfigError(`sources.${name}: externalId is set but roleArn is not`, { hint: 'add the roleArn the ExternalId guards' });
      }
      return {
        ...common,
        type: 'aws-secrets-manager',
        region: raw.region,
        secretId: raw.secretId,
        versionStage: raw.versionStage ?? DEFAULTS.awsVersionStage,
        key: raw.key,
        endpoint: raw.endpoint,
        roleArn: raw.roleArn,
        externalId: raw.externalId,
        maxResponseBytes: parseSize(raw.maxResponseSize ?? DEFAULTS.maxResponseSize),
      };
    case 'aws-ssm':
      return finalizeSsmSource(name, raw, common);
    default:
      return assertNever(raw, 'unexpected config value');
  }
}

function finalizeGenerate(name: string, raw: Readonly<Record<string, RawGeneratedKey>>): ReadonlyMap<string, GeneratedKeySpec> {
  return new Map(
    Object.entries(raw).map(([key, spec]): [string, GeneratedKeySpec] => {
      const where = `sources.${name}.generate.${key}`;
      if (PROTOTYPE_NAMES.has(key)) throw new ConfigError(`${where}: ${key} cannot be a key (a dotenv file drops it)`, { hint: 'rename the key' });
      const byBytes = spec.bytes !== undefined || spec.encoding !== undefined;
      const byAlphabet = spec.length !== undefined || spec.alphabet !== undefined;
      if (byBytes === byAlphabet || (byBytes && spec.bytes === undefined) || (byAlphabet && (spec.length === undefined || spec.alphabet === undefined))) {
        throw new ConfigError(`${where}: give bytes (with an optional encoding: hex, base64, base64url), or length with alphabet`, {
          hint: `such as ${key}: { bytes: 32, encoding: base64url } or ${key}: { length: 6, alphabet: "0123456789" }`,
        });
      }
      if (spec.alphabet !== undefined) {
        const repeated = [...spec.alphabet].find((char, index) => spec.alphabet?.indexOf(char) !== index);
        if (repeated !== undefined) {
          throw new ConfigError(`${where}.alphabet: "${repeated}" is listed more than once, which would make it likelier than the others`, { hint: 'list each character once' });
        }
        return [key, { kind: 'alphabet', length: spec.length as number, alphabet: spec.alphabet }];
      }
      return [key, { kind: 'bytes', bytes: spec.bytes as number, encoding: spec.encoding ?? DEFAULTS.generateEncoding }];
    }),
  );
}

function finalizeSsmSource(name: string, raw: Extract<RawSource, { type: 'aws-ssm' }>, common: SourceCommon): SsmSourceConfig {
  if ((raw.path === undefined) === (raw.names === undefined)) {
    throw new ConfigError(`sources.${name}: an aws-ssm source needs exactly one of path and names`, {
      hint: 'set path: /noxus/prod/worker/ for a hierarchy, or names: [/noxus/prod/db-password, …] for chosen parameters',
    });
  }
  if (raw.recursive !== undefined && raw.path === undefined) {
    throw new ConfigError(`sources.${name}: recursive applies to path, and this source has names`, { hint: 'remove recursive:, or use path:' });
  }
  if (raw.externalId !== undefined && raw.roleArn === undefined) {
    throw new ConfigError(`sources.${name}: externalId is set but roleArn is not`, { hint: 'add the roleArn the ExternalId guards' });
  }
  const names = raw.names === undefined ? undefined : [...new Set(raw.names)];
  return {
    ...common,
    type: 'aws-ssm',
    region: raw.region,
    // GetParametersByPath wants no trailing slash except for the root itself.
    path: raw.path === undefined ? undefined : raw.path.length > 1 ? raw.path.replace(/\/+$/, '') || '/' : raw.path,
    recursive: raw.recursive ?? false,
    names,
    endpoint: raw.endpoint,
    roleArn: raw.roleArn,
    externalId: raw.externalId,
    maxResponseBytes: parseSize(raw.maxResponseSize ?? DEFAULTS.maxResponseSize),
  };
}

// Each allowed origin is a host that receives the token: only https ones when the address is https.
function finalizeRedirects(name: string, address: string, follow: 'never' | 'same-origin' | readonly string[]): ReadonlySet<string> {
  if (follow === 'never') return new Set();
  const own = new URL(address);
  if (follow === 'same-origin') return new Set([own.origin]);
  const origins = new Set([own.origin]);
  for (const text of follow) {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError(`sources.${name}.followRedirects: ${text} is not an http(s) origin`, { hint: 'list origins such as https://vault-2.internal:8200' });
    }
    if (own.protocol === 'https:' && url.protocol !== 'https:') {
      throw new ConfigError(`sources.${name}.followRedirects: ${text} is plain http while the address is https: the token would cross the network in clear text`, {
        hint: `use https://${url.host} (and give that node a certificate the caCert trusts)`,
      });
    }
    origins.add(url.origin);
  }
  return origins;
}

function finalizeScopes(raw: RawConfig['scopes'], sources: ReadonlyMap<string, SourceConfig>): ScopesConfig {
  const check = (names: readonly string[], where: string): readonly string[] => {
    for (const name of names) {
      if (!sources.has(name)) {
        throw new ConfigError(`${where} refers to source "${name}", which is not defined under sources:`, {
          hint: `define it, or use one of: ${[...sources.keys()].join(', ') || '(no sources)'}`,
        });
      }
    }
    return names;
  };
  if (raw === undefined) return { global: [...sources.keys()], services: new Map(), pools: new Map() };
  return {
    global: check(raw.global ?? [], 'scopes.global'),
    services: new Map(Object.entries(raw.services ?? {}).map(([service, names]) => [service, check(names, `scopes.services.${service}`)])),
    pools: new Map(
      Object.entries(raw.pools ?? {}).map(([service, pools]) => [service, new Map(Object.entries(pools).map(([pool, names]) => [pool, check(names, `scopes.pools.${service}.${pool}`)]))]),
    ),
  };
}

function finalizeFiles(raw: NonNullable<RawConfig['files']>, env: ReadonlyMap<string, unknown>, parentEnv: NodeJS.ProcessEnv): FileOutputConfig[] {
  const seenPaths = new Set<string>();
  return raw.map((entry, index) => {
    const where = `files[${index}]`;
    const path = normalize(entry.path);
    if (isAbsolute(entry.path) || path === '..' || path.startsWith(`..${sep}`) || path === '.') {
      throw new ConfigError(`${where}.path "${entry.path}" leaves the private runtime folder`, {
        hint: 'use a relative path such as api-keys or tls/key.pem',
      });
    }
    if (seenPaths.has(path)) throw new ConfigError(`${where}.path "${entry.path}" is used by another files: entry`);
    seenPaths.add(path);
    if (entry.env !== undefined && env.has(entry.env)) {
      throw new ConfigError(`${where}.env ${entry.env} is also set under env:`, { hint: 'pick one of them' });
    }
    return {
      path,
      template: interpolateTemplate(parseTemplate(entry.template, `${where}.template`), parentEnv, ['files', index, 'template']),
      mode: Number.parseInt(entry.mode ?? DEFAULTS.fileMode, 8),
      env: entry.env,
    };
  });
}

function finalizeCache(raw: RawConfig, baseDir: string): Config['cache'] {
  const cached = Object.entries(raw.sources)
    .filter(([, source]) => 'cache' in source && source.cache !== undefined)
    .map(([name]) => name);
  if (raw.cache === undefined) {
    if (cached.length > 0) throw new ConfigError(`sources.${cached[0]}.cache is set, but there is no top-level cache: section`, { hint: 'add cache: { dir: …, keyFile: … } (or keyCredential:)' });
    return undefined;
  }
  const { dir, keyFile, keyCredential } = raw.cache;
  if ((keyFile === undefined) === (keyCredential === undefined)) {
    throw new ConfigError('cache: needs exactly one of keyFile and keyCredential', { hint: 'keyCredential: names a systemd credential; keyFile: a file of 32+ random bytes, mode 0600' });
  }
  const absoluteDir = resolve(baseDir, dir);
  if (keyFile !== undefined && dirname(resolve(baseDir, keyFile)) === absoluteDir) {
    throw new ConfigError('cache.keyFile is inside cache.dir: the key must never be stored beside the cache', { hint: 'keep the key elsewhere, or use keyCredential: with LoadCredentialEncrypted=' });
  }
  return { dir: absoluteDir, key: keyFile !== undefined ? { kind: 'file', path: resolve(baseDir, keyFile) } : { kind: 'credential', name: keyCredential as string } };
}

function finalizeSourceChange(name: string, raw: RawSource['onChange'], globalSignal: NodeJS.Signals): SourceCommon['onChange'] {
  if (raw === undefined) return undefined;
  const { action, signal } = typeof raw === 'string' ? { action: raw, signal: undefined } : raw;
  if (signal !== undefined && action !== 'signal') {
    throw new ConfigError(`sources.${name}.onChange: signal ${signal} is set but the action is ${action}`, { hint: 'use action: signal, or drop signal:' });
  }
  return { action, signal: signal === undefined ? globalSignal : validateSignal(signal, `sources.${name}.onChange.signal`) };
}

function validateSignal(name: string, where: string): NodeJS.Signals {
  if (!(name in constants.signals) || name === 'SIGSTOP') {
    throw new ConfigError(`${where}: ${name} is not a signal this system can send`, { hint: 'use a name such as SIGHUP, SIGTERM or SIGUSR1' });
  }
  return name as NodeJS.Signals;
}

// `${NAME}` in a template's literal text only, after parsing: what the environment holds is never read as an expression.
function interpolateTemplate(template: Template, env: NodeJS.ProcessEnv, at: readonly (string | number)[]): Template {
  return { ...template, parts: template.parts.map((part) => ('literal' in part ? { literal: interpolateLiterals(part.literal, env, at) } : part)) };
}
