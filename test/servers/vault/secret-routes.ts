import type { KvSecret, KvVersion, Lease, SecretStore } from './secrets.js';
import { fail, noContent, ok, rfc3339, type VaultReply } from './envelope.js';
import { isWrite, parseSeconds, type MountType, type VaultRequest } from './request.js';

/** KV v1's fixed "refresh interval" lease, 768h, reported with every read. */
const KV1_LEASE_SECONDS = 2_764_800;

/** Requests under a secrets-engine mount: KV v2 data/metadata, KV v1, database creds. */
export function handleSecretPath(request: VaultRequest, secrets: SecretStore, mount: string, type: MountType): VaultReply {
  const rest = request.path.slice(mount.length + 1);
  switch (type) {
    case 'kv-v2':
      return handleKv2(request, secrets, mount, rest);
    case 'kv-v1':
      return handleKv1(request, secrets, mount, rest);
    case 'database':
      return handleDatabase(request, secrets, mount, rest);
  }
}

function handleKv2(request: VaultRequest, secrets: SecretStore, mount: string, rest: string): VaultReply {
  const [section, ...parts] = rest.split('/');
  const path = parts.join('/');
  const ns = request.namespace;
  if ((section !== 'data' && section !== 'metadata') || path === '') return fail(404);
  if (section === 'data' && isWrite(request.method)) {
    const data = request.body.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail(400, 'no data provided');
    const version = secrets.putKv2(mount, path, data as Record<string, unknown>, ns);
    const stored = secrets.getKv2(mount, path, ns)?.versions[version - 1] as KvVersion;
    return ok({ data: getVersionMetadata(stored) });
  }
  if (request.method === 'DELETE') {
    secrets.delete(mount, path, ns);
    return noContent();
  }
  if (request.method !== 'GET') return fail(405, 'unsupported operation');
  const secret = secrets.getKv2(mount, path, ns);
  if (secret === undefined) return fail(404);
  if (section === 'metadata') return ok({ data: getSecretMetadata(secret) });
  const wanted = Number(request.query.get('version') ?? '0');
  const version = wanted > 0 ? secret.versions[wanted - 1] : secret.versions.at(-1);
  if (version === undefined) return fail(404);
  return ok({ data: { data: version.data, metadata: getVersionMetadata(version) }, mount_type: 'kv' });
}

function handleKv1(request: VaultRequest, secrets: SecretStore, mount: string, path: string): VaultReply {
  if (path === '') return fail(404);
  if (isWrite(request.method)) {
    secrets.putKv1(mount, path, request.body as Record<string, unknown>, request.namespace);
    return noContent();
  }
  if (request.method === 'DELETE') {
    secrets.delete(mount, path, request.namespace);
    return noContent();
  }
  const data = secrets.getKv1(mount, path, request.namespace);
  if (data === undefined) return fail(404);
  return ok({ data, lease_duration: KV1_LEASE_SECONDS, mount_type: 'kv' });
}

function handleDatabase(request: VaultRequest, secrets: SecretStore, mount: string, rest: string): VaultReply {
  const [section, role, ...extra] = rest.split('/');
  if (section !== 'creds' || role === undefined || role === '' || extra.length > 0) return fail(404);
  if (request.method !== 'GET' && !isWrite(request.method)) return fail(405, 'unsupported operation');
  const lease = secrets.issue(mount, role, request.namespace);
  if (lease === undefined) return fail(400, `unknown role: ${role}`);
  return ok({
    lease_id: lease.id,
    lease_duration: lease.ttl,
    renewable: lease.renewable,
    data: lease.data,
    mount_type: 'database',
  });
}

/** `sys/leases/renew|revoke|lookup` (and the legacy `sys/renew`, `sys/revoke`), lease id in the body or the path. */
export function handleLeasePath(request: VaultRequest, secrets: SecretStore): VaultReply {
  const match = /^sys\/(?:leases\/)?(renew|revoke|lookup)(?:\/(.+))?$/.exec(request.path);
  if (match === null) return fail(404);
  if (!isWrite(request.method)) return fail(405, 'unsupported operation');
  const id = match[2] ?? request.body.lease_id;
  if (typeof id !== 'string' || id === '') return fail(400, 'lease_id must be specified');
  const lease = secrets.lease(id, request.namespace);
  if (match[1] === 'revoke') {
    if (lease !== undefined) secrets.revokeLease(lease.id);
    return noContent();
  }
  if (lease === undefined) return fail(400, match[1] === 'lookup' ? 'invalid lease' : 'lease not found');
  if (match[1] === 'lookup') return ok({ data: getLeaseInfo(lease, secrets) });
  if (!lease.renewable) return fail(400, 'lease is not renewable');
  const duration = secrets.renewLease(lease, parseSeconds(request.body.increment));
  return ok({ lease_id: lease.id, renewable: lease.renewable, lease_duration: duration });
}

function getVersionMetadata(version: KvVersion): Record<string, unknown> {
  return { created_time: version.createdTime, custom_metadata: null, deletion_time: '', destroyed: false, version: version.version };
}

function getSecretMetadata(secret: KvSecret): Record<string, unknown> {
  const versions = Object.fromEntries(secret.versions.map((v) => [String(v.version), { created_time: v.createdTime, deletion_time: '', destroyed: false }]));
  return {
    cas_required: false,
    created_time: secret.createdTime,
    current_version: secret.versions.length,
    custom_metadata: null,
    delete_version_after: '0s',
    max_versions: 0,
    oldest_version: 0,
    updated_time: secret.updatedTime,
    versions,
  };
}

function getLeaseInfo(lease: Lease, secrets: SecretStore): Record<string, unknown> {
  return {
    id: lease.id,
    issue_time: rfc3339(lease.issuedAt),
    expire_time: rfc3339(lease.expiresAt),
    last_renewal: lease.lastRenewalAt === undefined ? null : rfc3339(lease.lastRenewalAt),
    renewable: lease.renewable,
    ttl: secrets.remaining(lease),
  };
}
