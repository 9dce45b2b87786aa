import { SecretDataError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import { digestEntries } from '../content-digest.js';
import { getNumber, getObject } from './json-fields.js';

/** Which kind of Vault secret a read returned. */
export type SecretKind = 'kv-v2' | 'kv-v1' | 'dynamic';

/** The lease on dynamic credentials. */
export interface LeaseInfo {
  readonly id: string;
  readonly durationMs: number;
  readonly renewable: boolean;
}

/** A read's entries, version and kind; `lease` for dynamic secrets. */
export interface ParsedSecret {
  readonly kind: SecretKind;
  readonly entries: ReadonlyMap<string, SecretValue>;
  readonly version: string;
  readonly updatedAt: Date | undefined;
  readonly lease: LeaseInfo | undefined;
}

/**
 * Reads a Vault answer by its shape: a `lease_id` means dynamic credentials
 * (each issue is a new version); `data.data` with `data.metadata` under a
 * `…/data/…` path is KV v2 (its version number and creation time are the
 * version); anything else is KV v1 (a keyed digest of the values is the
 * version). Values that are not strings become JSON.
 */
export function parseSecretResponse(response: unknown, path: string, what: string, now: number): ParsedSecret {
  const data = getObject(response, 'data');
  if (data === undefined) {
    throw new SecretDataError(`${what}: Vault's answer for ${path} holds no data`, {
      hint: 'point path at a secret (KV v2: secret/data/…, KV v1, or dynamic credentials such as database/creds/role)',
    });
  }
  const envelope = response as Record<string, unknown>;
  const leaseId = envelope.lease_id;
  if (typeof leaseId === 'string' && leaseId !== '') {
    const lease = { id: leaseId, durationMs: getNumber(envelope, 'lease_duration') * 1000, renewable: envelope.renewable === true };
    return { kind: 'dynamic', entries: toEntries(data), version: `lease:${leaseId}`, updatedAt: new Date(now), lease };
  }
  const inner = getObject(data, 'data');
  const metadata = getObject(data, 'metadata');
  if (/(^|\/)data\//.test(path) && inner !== undefined && metadata !== undefined) {
    const created = typeof metadata.created_time === 'string' ? new Date(metadata.created_time) : undefined;
    return {
      kind: 'kv-v2',
      entries: toEntries(inner),
      version: `kv2:${getNumber(metadata, 'version')}:${String(metadata.created_time ?? '')}`,
      updatedAt: created !== undefined && !Number.isNaN(created.getTime()) ? created : undefined,
      lease: undefined,
    };
  }
  const entries = toEntries(data);
  return { kind: 'kv-v1', entries, version: `kv1:${digestEntries(entries)}`, updatedAt: undefined, lease: undefined };
}

/** A Vault value as env text: strings as they are, null as empty, anything else as JSON. */
export function toSecretText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return JSON.stringify(value);
}

function toEntries(data: Record<string, unknown>): Map<string, SecretValue> {
  return new Map(Object.entries(data).map(([key, value]) => [key, new SecretValue(toSecretText(value))]));
}
