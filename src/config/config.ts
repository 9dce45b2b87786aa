import type { ChangeAction, PermissionPolicy } from './schema.js';
import type { Template } from './template.js';
import type { ListenConfig } from '../listen/listen-config.js';
import type { MetricsSection } from '../health/metrics-config.js';
import type { ReadinessConfig } from './readiness-config.js';

/** Settings every source kind shares, with defaults applied. */
export interface SourceCommon {
  readonly name: string;
  /** ENV_NAME → key in the source; undefined passes every key under its own name. */
  readonly keys: ReadonlyMap<string, string> | undefined;
  readonly prefix: string;
  readonly required: readonly string[];
  readonly sanitize: boolean;
  readonly upcase: boolean;
  readonly permissions: PermissionPolicy;
  readonly asEnv: boolean;
  readonly allowNames: ReadonlySet<string>;
  /** How often to re-read, in ms. */
  readonly refreshMs: number;
  /** How old a last-good cache entry may be to start from; undefined: no cache for this source. */
  readonly cacheMaxAgeMs?: number | undefined;
  /** This source's own onChange; undefined follows the global one. */
  readonly onChange?: SourceChangeAction | undefined;
}

/** The top-level `cache:` with paths absolute. */
export interface CacheConfig {
  readonly dir: string;
  readonly key: { readonly kind: 'file'; readonly path: string } | { readonly kind: 'credential'; readonly name: string };
}

/** A per-source onChange, with its signal settled. */
export interface SourceChangeAction {
  readonly action: ChangeAction;
  readonly signal: NodeJS.Signals;
}

/** How a generated key's random value is made: bytes in an encoding, or characters drawn from an alphabet. */
export type GeneratedKeySpec =
  { readonly kind: 'bytes'; readonly bytes: number; readonly encoding: 'hex' | 'base64' | 'base64url' } | { readonly kind: 'alphabet'; readonly length: number; readonly alphabet: string };

/** A KEY=value file. `path` is absolute. */
export interface DotenvSourceConfig extends SourceCommon {
  readonly type: 'dotenv';
  readonly path: string;
  /** Keys created when missing, by key name in the file; empty: none. */
  readonly generate: ReadonlyMap<string, GeneratedKeySpec>;
}

/** A folder with one secret per file. `path` is absolute. */
export interface DirectorySourceConfig extends SourceCommon {
  readonly type: 'directory';
  readonly path: string;
  /** Keys created when missing, by file name; empty: none. */
  readonly generate: ReadonlyMap<string, GeneratedKeySpec>;
}

/** A Vault secret. `address` and `namespace` already fall back to VAULT_ADDR / VAULT_NAMESPACE; file paths are absolute. */
export interface VaultSourceConfig extends SourceCommon {
  readonly type: 'vault';
  readonly address: string;
  readonly namespace: string | undefined;
  readonly caCert: string | undefined;
  readonly auth: VaultAuthConfig;
  /** The Vault path read, or for `pki` the one certificates are issued at (`{mount}/issue/{role}`). */
  readonly path: string;
  /** Set when the source issues a certificate (POST to `path`) instead of reading a secret. */
  readonly pki?: PkiIssueConfig | undefined;
  readonly revokeOnExit: boolean;
  readonly timeoutMs: number;
  /** Origins (`https://host:port`) a redirect may lead to, the source's own included when allowed; empty: none. */
  readonly redirectOrigins: ReadonlySet<string>;
  /** Largest answer accepted, in bytes. */
  readonly maxResponseBytes: number;
}

/**
 * How a Vault source logs in, with defaults applied: every login method has
 * its mount, the kubernetes method its token file, the aws method the STS
 * region and endpoint it signs for; file paths are absolute.
 */
export type VaultAuthConfig =
  | {
      readonly method: 'token';
      /** Read first; else VAULT_TOKEN, else homeTokenFile. */
      readonly tokenFile: string | undefined;
      /** The file `vault login` writes: ~/.vault-token. */
      readonly homeTokenFile: string;
    }
  | ({ readonly method: 'approle'; readonly mount: string; readonly secretIdFile: string | undefined } & (
      { readonly roleId: string; readonly roleIdFile?: undefined } | { readonly roleId?: undefined; readonly roleIdFile: string }
    ))
  | { readonly method: 'kubernetes'; readonly role: string; readonly jwtFile: string; readonly mount: string }
  | {
      readonly method: 'aws';
      readonly role: string;
      readonly mount: string;
      /** The region the request is signed for. */
      readonly region: string;
      /** The STS endpoint it is signed for; undefined: the region's. */
      readonly stsEndpoint: string | undefined;
      readonly headerValue: string | undefined;
    }
  | { readonly method: 'jwt'; readonly role: string; readonly jwtFile: string; readonly mount: string };

/** What a Vault source asks the PKI engine for, with defaults applied. */
export interface PkiIssueConfig {
  readonly mount: string;
  readonly role: string;
  readonly commonName: string;
  readonly altNames: readonly string[];
  readonly ipSans: readonly string[];
  /** The lifetime asked for, in whole seconds; undefined: the role's. */
  readonly ttlSeconds: number | undefined;
  /** A certificate is re-issued no later than this before its notAfter, in ms. */
  readonly renewBeforeMs: number;
}

/** An AWS Secrets Manager secret. */
export interface AwsSourceConfig extends SourceCommon {
  readonly type: 'aws-secrets-manager';
  readonly region: string | undefined;
  readonly secretId: string;
  readonly versionStage: string;
  readonly key: string | undefined;
  readonly endpoint: string | undefined;
  readonly roleArn: string | undefined;
  readonly externalId: string | undefined;
  /** Largest answer accepted, in bytes. */
  readonly maxResponseBytes: number;
}

/** AWS Systems Manager Parameter Store parameters: a hierarchy (`path`) or a list (`names`), exactly one. */
export interface SsmSourceConfig extends SourceCommon {
  readonly type: 'aws-ssm';
  readonly region: string | undefined;
  readonly path: string | undefined;
  readonly recursive: boolean;
  readonly names: readonly string[] | undefined;
  readonly endpoint: string | undefined;
  readonly roleArn: string | undefined;
  readonly externalId: string | undefined;
  /** Largest answer accepted, in bytes. */
  readonly maxResponseBytes: number;
}

export type SourceConfig = DotenvSourceConfig | DirectorySourceConfig | VaultSourceConfig | AwsSourceConfig | SsmSourceConfig;
export type SourceKind = SourceConfig['type'];

/** Whether a source of this kind reads local files (and is watched, not polled). */
export function isFileSourceKind(kind: SourceKind | 'stray'): boolean {
  return kind === 'dotenv' || kind === 'directory';
}

/** One `files:` entry, checked and defaulted. */
export interface FileOutputConfig {
  /** Relative to the runtime folder, normalised, never escaping it. */
  readonly path: string;
  readonly template: Template;
  readonly mode: number;
  readonly env: string | undefined;
}

/** The `onChange` section with defaults applied; signals are names Node knows. */
export interface ChangePolicy {
  readonly env: ChangeAction;
  readonly files: ChangeAction;
  readonly signal: NodeJS.Signals;
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  readonly debounceMs: number;
  readonly splayMs: number;
  /** restart: stop the old child, then start the new one; overlap: the new one first, the old one stopped once it is ready. */
  readonly strategy: 'restart' | 'overlap';
}

/** Which source names feed each scope. */
export interface ScopesConfig {
  readonly global: readonly string[];
  readonly services: ReadonlyMap<string, readonly string[]>;
  readonly pools: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
}

/** The finalized config: validated, defaulted once, trusted after this point. */
export interface Config {
  /** Absolute path of the config file, or undefined in zero-config mode. */
  readonly file: string | undefined;
  readonly sources: ReadonlyMap<string, SourceConfig>;
  readonly scopes: ScopesConfig;
  readonly env: ReadonlyMap<string, Template>;
  readonly files: readonly FileOutputConfig[];
  readonly inherit: 'all' | 'none' | ReadonlySet<string>;
  readonly onChange: ChangePolicy;
  readonly onExit: 'exit' | 'restart';
  /** The child's readiness check; undefined: a child is ready once it runs. */
  readonly ready?: ReadinessConfig | undefined;
  readonly startupTimeoutMs: number;
  /** Longest random wait of `run` before its first read of a remote source; 0: none. */
  readonly startupSplayMs: number;
  readonly user: string | number | undefined;
  readonly group: string | number | undefined;
  /** The last-good cache's folder and key; undefined when no source is cached. */
  readonly cache?: CacheConfig | undefined;
  /** Sockets held for the whole run and passed to every child. */
  readonly listen: readonly ListenConfig[];
  /** The health listener (/metrics, /healthz, /status); undefined: none. */
  readonly metrics?: MetricsSection | undefined;
}
