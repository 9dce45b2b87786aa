import { randomUUID } from 'node:crypto';

/** What a route answers: a status and a JSON body, or no body (204). */
export interface VaultReply {
  readonly status: number;
  readonly body: unknown;
}

/** Fields of Vault's response envelope a route sets; the rest take their documented empty values. */
export interface EnvelopeFields {
  readonly data?: unknown;
  readonly auth?: unknown;
  readonly lease_id?: string;
  readonly lease_duration?: number;
  readonly renewable?: boolean;
  readonly warnings?: string[] | null;
  readonly mount_type?: string;
}

/** A 200 with Vault's full envelope: request_id, lease_id, renewable, lease_duration, data, wrap_info, warnings, auth. */
export function ok(fields: EnvelopeFields): VaultReply {
  return {
    status: 200,
    body: {
      request_id: randomUUID(),
      lease_id: fields.lease_id ?? '',
      renewable: fields.renewable ?? false,
      lease_duration: fields.lease_duration ?? 0,
      data: fields.data ?? null,
      wrap_info: null,
      warnings: fields.warnings === undefined || fields.warnings?.length === 0 ? null : fields.warnings,
      auth: fields.auth ?? null,
      mount_type: fields.mount_type ?? '',
    },
  };
}

/** A 204: Vault's answer to writes, deletes and revocations that return nothing. */
export function noContent(): VaultReply {
  return { status: 204, body: undefined };
}

/** An error as Vault sends it: `{"errors": [...]}` with the status. */
export function fail(status: number, ...errors: string[]): VaultReply {
  return { status, body: { errors } };
}

/** 403 as Vault answers a missing, bad, expired or unauthorised token. */
export function denied(): VaultReply {
  return fail(403, 'permission denied');
}

/** 404 for a path no mount handles. */
export function noRoute(path: string): VaultReply {
  return fail(404, `no handler for route "${path}". route entry not found.`);
}

/** The error body Vault sends with an injected status. */
export function faultReply(status: number): VaultReply {
  if (status === 403) return denied();
  if (status === 429) return fail(429, 'request path "": rate limit quota exceeded');
  if (status === 503) return fail(503, 'Vault is temporarily unavailable');
  return fail(status, 'internal error');
}

/** Epoch ms as Vault's RFC 3339 times. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
