import type { TokenStore } from './tokens.js';
import type { SecretStore } from './secrets.js';

/** The kinds of secrets engine the test server mounts. */
export type MountType = 'kv-v2' | 'kv-v1' | 'database';

/** A parsed API request. */
export interface VaultRequest {
  /** Upper-case HTTP method; `LIST` as sent, or GET with `?list=true`. */
  readonly method: string;
  /** The path after `/v1/`, without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** `X-Vault-Namespace`, without surrounding slashes; '' for the root namespace. */
  readonly namespace: string;
  /** `X-Vault-Token` (or `Authorization: Bearer`). */
  readonly token: string | undefined;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What the routes work on. */
export interface VaultBackend {
  readonly tokens: TokenStore;
  readonly secrets: SecretStore;
  readonly mounts: ReadonlyMap<string, MountType>;
  readonly namespaces: ReadonlySet<string>;
}

/** True for methods that write (Vault treats POST and PUT alike). */
export function isWrite(method: string): boolean {
  return method === 'POST' || method === 'PUT';
}

/** Seconds from a Vault duration parameter: a number, or a string such as `3600`, `90s`, `5m`, `1h`. */
export function parseSeconds(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value);
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+)(s|m|h)?$/.exec(value.trim());
  if (match === null) return undefined;
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Number(match[1]) * unit;
}
