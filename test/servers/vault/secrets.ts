import { randomBytes } from 'node:crypto';

/** One stored version of a KV v2 secret. */
export interface KvVersion {
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdTime: string;
  readonly version: number;
}

/** A KV v2 secret: every version and the times Vault reports in its metadata. */
export interface KvSecret {
  readonly versions: KvVersion[];
  readonly createdTime: string;
  updatedTime: string;
}

/** A dynamic-credentials role of the database engine. */
export interface DatabaseRoleOptions {
  readonly role: string;
  readonly mount?: string;
  readonly namespace?: string;
  /** Lease duration in seconds (`default_ttl`). */
  readonly ttl: number;
  /** Seconds from issue that renewals cannot pass (`max_ttl`). */
  readonly maxTtl?: number;
  readonly renewable?: boolean;
  /** Makes each credential pair; give `randomSecret()`s so leak checks can find them. */
  readonly credentials?: () => { username: string; password: string };
}

/** A lease on issued dynamic credentials. */
export interface Lease {
  readonly id: string;
  readonly namespace: string;
  readonly role: string;
  readonly data: Readonly<Record<string, string>>;
  readonly issuedAt: number;
  readonly ttl: number;
  readonly renewable: boolean;
  expiresAt: number;
  readonly maxExpiresAt: number | undefined;
  lastRenewalAt: number | undefined;
  renewals: number;
  revoked: boolean;
}

interface DatabaseRole extends Required<Omit<DatabaseRoleOptions, 'maxTtl'>> {
  readonly maxTtl: number | undefined;
}

/** KV v1 and v2 data, database roles and the leases they issued, per namespace. */
export class SecretStore {
  readonly #kv2 = new Map<string, KvSecret>();
  readonly #kv1 = new Map<string, Record<string, unknown>>();
  readonly #roles = new Map<string, DatabaseRole>();
  readonly #leases = new Map<string, Lease>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Writes a new version of a KV v2 secret at `<mount>/data/<path>`; returns the version number. */
  putKv2(mount: string, path: string, data: Record<string, unknown>, namespace = ''): number {
    const key = storeKey(namespace, mount, path);
    const time = new Date(this.#now()).toISOString();
    const secret = this.#kv2.get(key) ?? { versions: [], createdTime: time, updatedTime: time };
    const version = secret.versions.length + 1;
    secret.versions.push({ data: { ...data }, createdTime: time, version });
    secret.updatedTime = time;
    this.#kv2.set(key, secret);
    return version;
  }

  /** The KV v2 secret at `<mount>/<path>`, if any. */
  getKv2(mount: string, path: string, namespace = ''): KvSecret | undefined {
    return this.#kv2.get(storeKey(namespace, mount, path));
  }

  /** Writes (replaces) a KV v1 secret at `<mount>/<path>`. */
  putKv1(mount: string, path: string, data: Record<string, unknown>, namespace = ''): void {
    this.#kv1.set(storeKey(namespace, mount, path), { ...data });
  }

  /** The KV v1 secret at `<mount>/<path>`, if any. */
  getKv1(mount: string, path: string, namespace = ''): Record<string, unknown> | undefined {
    return this.#kv1.get(storeKey(namespace, mount, path));
  }

  /** Removes a secret of either KV version, so that reads answer 404. */
  delete(mount: string, path: string, namespace = ''): void {
    this.#kv2.delete(storeKey(namespace, mount, path));
    this.#kv1.delete(storeKey(namespace, mount, path));
  }

  /** Registers a role of the database engine: `<mount>/creds/<role>` then issues credentials with a lease. */
  addDatabaseRole(options: DatabaseRoleOptions): void {
    const role: DatabaseRole = {
      role: options.role,
      mount: options.mount ?? 'database',
      namespace: options.namespace ?? '',
      ttl: options.ttl,
      maxTtl: options.maxTtl,
      renewable: options.renewable ?? true,
      credentials: options.credentials ?? randomCredentials(options.role),
    };
    this.#roles.set(storeKey(role.namespace, role.mount, role.role), role);
  }

  /** Issues new credentials for a database role, or undefined when there is no such role. */
  issue(mount: string, role: string, namespace = ''): Lease | undefined {
    const config = this.#roles.get(storeKey(namespace, mount, role));
    if (config === undefined) return undefined;
    const now = this.#now();
    const lease: Lease = {
      id: `${mount}/creds/${role}/${randomBytes(12).toString('base64url')}`,
      namespace,
      role,
      data: config.credentials(),
      issuedAt: now,
      ttl: config.ttl,
      renewable: config.renewable,
      expiresAt: now + config.ttl * 1000,
      maxExpiresAt: config.maxTtl === undefined ? undefined : now + config.maxTtl * 1000,
      lastRenewalAt: undefined,
      renewals: 0,
      revoked: false,
    };
    this.#leases.set(lease.id, lease);
    return lease;
  }

  /** The live lease with this id in `namespace`: not revoked, not expired. */
  lease(id: unknown, namespace: string): Lease | undefined {
    if (typeof id !== 'string') return undefined;
    const lease = this.#leases.get(id);
    if (lease === undefined || lease.revoked || lease.namespace !== namespace) return undefined;
    return lease.expiresAt > this.#now() ? lease : undefined;
  }

  /** Extends a lease by `increment` seconds (default its TTL), capped by the role's max TTL; returns the new duration. */
  renewLease(lease: Lease, increment: number | undefined): number {
    const now = this.#now();
    const wanted = now + (increment ?? lease.ttl) * 1000;
    lease.expiresAt = lease.maxExpiresAt === undefined ? wanted : Math.min(wanted, lease.maxExpiresAt);
    lease.lastRenewalAt = now;
    lease.renewals += 1;
    return this.remaining(lease);
  }

  /** Seconds a lease has left. */
  remaining(lease: Lease): number {
    return Math.max(0, Math.round((lease.expiresAt - this.#now()) / 1000));
  }

  /** Revokes a lease (tests: "the operator revoked it"; also the API's sys/leases/revoke). */
  revokeLease(id: string): void {
    const lease = this.#leases.get(id);
    if (lease !== undefined) lease.revoked = true;
  }

  /** Every lease ever issued, oldest first. */
  leases(): readonly Lease[] {
    return [...this.#leases.values()];
  }
}

function storeKey(namespace: string, mount: string, path: string): string {
  return `${namespace}\u0000${mount}\u0000${path}`;
}

function randomCredentials(role: string): () => { username: string; password: string } {
  return () => ({
    username: `v-token-${role}-${randomBytes(6).toString('hex')}`,
    password: randomBytes(15).toString('base64url'),
  });
}
