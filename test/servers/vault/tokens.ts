import { randomBytes, randomUUID } from 'node:crypto';
import { verifyIamLogin, type AwsAuthConfig } from './aws-login.js';

/** A token the test Vault issued or was given, with its lease. */
export interface VaultToken {
  readonly id: string;
  readonly accessor: string;
  readonly namespace: string;
  readonly policies: readonly string[];
  /** Where it came from, as Vault reports it (`auth/approle/login`, `auth/token/create`). */
  readonly path: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly issuedAt: number;
  /** The TTL it was created with, in seconds; 0 never expires (a root token). */
  readonly creationTtl: number;
  readonly renewable: boolean;
  /** Epoch ms it expires at; undefined for a token without TTL. */
  expiresAt: number | undefined;
  /** Epoch ms no renewal can go past; undefined without a max TTL. */
  readonly maxExpiresAt: number | undefined;
  lastRenewalAt: number | undefined;
  revoked: boolean;
}

/** Options for a token the test hands out directly (token auth method). */
export interface TokenOptions {
  /** The token string; give a `randomSecret()` so leak checks can find it. */
  readonly id?: string;
  /** Seconds; 0 (the default) never expires. */
  readonly ttl?: number;
  /** Seconds from issue that renewals cannot pass. */
  readonly maxTtl?: number;
  readonly renewable?: boolean;
  readonly namespace?: string;
  readonly policies?: readonly string[];
  readonly path?: string;
  readonly meta?: Record<string, string> | null;
}

/** An AppRole role: the role_id/secret_id pair that logs in, and the tokens it issues. */
export interface AppRoleOptions {
  readonly roleId: string;
  /** Undefined for a role with `bind_secret_id=false`. */
  readonly secretId?: string;
  readonly roleName?: string;
  readonly mount?: string;
  readonly namespace?: string;
  readonly tokenTtl?: number;
  readonly tokenMaxTtl?: number;
  readonly renewable?: boolean;
  /** Token strings to hand out in order (`randomSecret()`s); random ones after they run out. */
  readonly tokens?: string[];
}

/** A Kubernetes auth role: logins with this role name and service-account JWT succeed. */
export interface KubernetesRoleOptions {
  readonly role: string;
  readonly jwt: string;
  readonly mount?: string;
  readonly namespace?: string;
  readonly tokenTtl?: number;
  readonly tokenMaxTtl?: number;
  readonly renewable?: boolean;
  readonly tokens?: string[];
}

/** An aws auth role (auth_type=iam): logins whose signed sts:GetCallerIdentity STS answers with a bound principal succeed. */
export interface AwsRoleOptions extends RoleTokenOptions, AwsAuthConfig {
  readonly role: string;
  /** `bound_iam_principal_arn`, compared as Vault does with `resolve_aws_unique_ids=false`. */
  readonly boundIamPrincipalArns: readonly string[];
}

/** What the auth methods' roles say about where they are mounted and the tokens they issue. */
type RoleTokenOptions = Pick<AppRoleOptions, 'mount' | 'namespace' | 'tokenTtl' | 'tokenMaxTtl' | 'renewable' | 'tokens'>;

/** The outcome of a login attempt: a token, or the status and error Vault would answer. */
export type LoginResult = { readonly token: VaultToken } | { readonly status: number; readonly error: string };

interface Role {
  readonly kind: 'approle' | 'kubernetes' | 'aws';
  readonly mount: string;
  readonly namespace: string;
  readonly name: string;
  readonly credential: string | undefined;
  readonly tokenTtl: number;
  readonly tokenMaxTtl: number | undefined;
  readonly renewable: boolean;
  readonly tokens: string[];
  readonly aws?: AwsRoleOptions;
}

/** Tokens and the auth roles that issue them. `now` is injectable so that expiry can be tested. */
export class TokenStore {
  readonly #tokens = new Map<string, VaultToken>();
  readonly #roles: Role[] = [];
  readonly #now: () => number;
  /** Each aws login that STS vouched for: the URL the client signed for and the principal it named. */
  readonly awsLogins: { readonly signedUrl: string; readonly arn: string }[] = [];

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Issues a token, as `vault token create` would; returns its string. */
  create(options: TokenOptions = {}): string {
    const now = this.#now();
    const ttl = options.ttl ?? 0;
    const token: VaultToken = {
      id: options.id ?? `hvs.${randomBytes(18).toString('base64url')}`,
      accessor: randomBytes(12).toString('base64url'),
      namespace: options.namespace ?? '',
      policies: options.policies ?? ['default'],
      path: options.path ?? 'auth/token/create',
      meta: options.meta ?? null,
      issuedAt: now,
      creationTtl: ttl,
      renewable: options.renewable ?? ttl > 0,
      expiresAt: ttl > 0 ? now + ttl * 1000 : undefined,
      maxExpiresAt: options.maxTtl === undefined ? undefined : now + options.maxTtl * 1000,
      lastRenewalAt: undefined,
      revoked: false,
    };
    this.#tokens.set(token.id, token);
    return token.id;
  }

  /** Registers an AppRole role; logins at `auth/<mount>/login` with its role_id and secret_id succeed. */
  addAppRole(options: AppRoleOptions): void {
    this.#addRole('approle', options.roleId, options.secretId, options);
  }

  /** Registers a Kubernetes auth role; logins at `auth/<mount>/login` with its role and jwt succeed. */
  addKubernetesRole(options: KubernetesRoleOptions): void {
    this.#addRole('kubernetes', options.role, options.jwt, options);
  }

  /** Registers an aws auth role; the mount's STS endpoint and server ID header come with it, as `config/client` would set them. */
  addAwsRole(options: AwsRoleOptions): void {
    this.#addRole('aws', options.role, undefined, options, options);
  }

  #addRole(kind: Role['kind'], name: string, credential: string | undefined, options: RoleTokenOptions, aws?: AwsRoleOptions): void {
    this.#roles.push({
      ...(aws === undefined ? {} : { aws }),
      kind,
      mount: options.mount ?? kind,
      namespace: options.namespace ?? '',
      name,
      credential,
      tokenTtl: options.tokenTtl ?? 3600,
      tokenMaxTtl: options.tokenMaxTtl,
      renewable: options.renewable ?? true,
      tokens: [...(options.tokens ?? [])],
    });
  }

  /** True when some role is mounted at `auth/<mount>` in `namespace`. */
  hasAuthMount(namespace: string, mount: string): boolean {
    return this.#roles.some((role) => role.namespace === namespace && role.mount === mount);
  }

  /** Logs in at `auth/<mount>/login` with the request body, as Vault's approle and kubernetes methods do. */
  login(namespace: string, mount: string, body: Record<string, unknown>): LoginResult {
    const roles = this.#roles.filter((role) => role.namespace === namespace && role.mount === mount);
    const kind = roles[0]?.kind;
    if (kind === 'approle') {
      if (typeof body.role_id !== 'string' || body.role_id === '') return { status: 400, error: 'missing role_id' };
      const role = roles.find((candidate) => candidate.name === body.role_id);
      if (role === undefined) return { status: 400, error: 'invalid role or secret ID' };
      if (role.credential !== undefined && body.secret_id !== role.credential) {
        return { status: 400, error: 'invalid role or secret ID' };
      }
      return { token: this.#issue(role, `auth/${mount}/login`, { role_name: role.name }) };
    }
    if (typeof body.role !== 'string' || body.role === '') return { status: 400, error: 'missing role' };
    if (typeof body.jwt !== 'string' || body.jwt === '') return { status: 400, error: 'missing jwt' };
    const role = roles.find((candidate) => candidate.name === body.role);
    if (role === undefined) return { status: 400, error: `invalid role name "${body.role}"` };
    if (body.jwt !== role.credential) return { status: 403, error: 'permission denied' };
    return {
      token: this.#issue(role, `auth/${mount}/login`, { role: role.name, service_account_name: 'default' }),
    };
  }

  /**
   * Logs in at `auth/<mount>/login` of an aws mount: the signed request is
   * replayed to STS first, then the role is looked up and its bound
   * principals compared, in OpenBao's order and with its errors.
   */
  async loginAws(namespace: string, mount: string, body: Record<string, unknown>): Promise<LoginResult> {
    const roles = this.#roles.filter((role) => role.kind === 'aws' && role.namespace === namespace && role.mount === mount);
    const config = roles[0]?.aws;
    if (config === undefined) return { status: 404, error: `no handler for route "auth/${mount}/login"` };
    const caller = await verifyIamLogin(body, config);
    if ('status' in caller) return caller;
    this.awsLogins.push({ signedUrl: caller.signedUrl, arn: caller.arn });
    const name = typeof body.role === 'string' && body.role !== '' ? body.role : (caller.arn.split('/').at(-1) as string);
    const role = roles.find((candidate) => candidate.name === name);
    if (role === undefined) return { status: 400, error: `entry for role ${name} not found` };
    if (!role.aws?.boundIamPrincipalArns.includes(caller.arn)) {
      return { status: 400, error: `IAM Principal "${caller.arn}" does not belong to the role "${name}"` };
    }
    return { token: this.#issue(role, `auth/${mount}/login`, { role_tag: '', client_arn: caller.arn, canonical_arn: caller.arn }) };
  }

  /** True when `mount` in `namespace` is an aws auth mount. */
  isAwsMount(namespace: string, mount: string): boolean {
    return this.#roles.some((role) => role.kind === 'aws' && role.namespace === namespace && role.mount === mount);
  }

  /** The live token for `id` usable in `namespace`: not revoked, not expired; root-namespace tokens work everywhere. */
  lookup(id: string | undefined, namespace: string): VaultToken | undefined {
    if (id === undefined || id === '') return undefined;
    const token = this.#tokens.get(id);
    if (token === undefined || token.revoked) return undefined;
    if (token.expiresAt !== undefined && token.expiresAt <= this.#now()) return undefined;
    if (token.namespace !== '' && token.namespace !== namespace) return undefined;
    return token;
  }

  /** Seconds the token has left; 0 for a token that never expires. */
  ttlOf(token: VaultToken): number {
    return token.expiresAt === undefined ? 0 : Math.max(0, Math.round((token.expiresAt - this.#now()) / 1000));
  }

  /** Extends a token by `increment` seconds (default its creation TTL), capped by its max TTL. */
  renew(token: VaultToken, increment: number | undefined): { readonly warnings: string[] } {
    const now = this.#now();
    const wanted = now + (increment ?? token.creationTtl) * 1000;
    const capped = token.maxExpiresAt === undefined ? wanted : Math.min(wanted, token.maxExpiresAt);
    token.expiresAt = capped;
    token.lastRenewalAt = now;
    return {
      warnings: capped < wanted ? ['TTL of the token exceeded the effective max_ttl; TTL value is capped accordingly'] : [],
    };
  }

  /** Revokes one token (tests: "the operator revoked it"). */
  revoke(id: string): void {
    const token = this.#tokens.get(id);
    if (token !== undefined) token.revoked = true;
  }

  /** Revokes every token issued so far, forcing every client to log in again. */
  revokeAll(): void {
    for (const token of this.#tokens.values()) token.revoked = true;
  }

  /** Every token ever issued or created, newest last. */
  list(): readonly VaultToken[] {
    return [...this.#tokens.values()];
  }

  #issue(role: Role, path: string, meta: Record<string, string>): VaultToken {
    const id = role.tokens.shift();
    const created = this.create({
      id,
      ttl: role.tokenTtl,
      maxTtl: role.tokenMaxTtl,
      renewable: role.renewable,
      namespace: role.namespace,
      policies: ['default', role.name],
      path,
      meta,
    });
    return this.#tokens.get(created) as VaultToken;
  }
}

/** A fresh request id, as every Vault response carries. */
export function newRequestId(): string {
  return randomUUID();
}
