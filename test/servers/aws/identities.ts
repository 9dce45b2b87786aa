import { randomBytes } from 'node:crypto';
import { TEST_ACCOUNT } from './secret-store.js';

/** Which secrets (by name) an identity may read; `'*'` for all. */
export type SecretGrant = readonly string[] | '*';

/** A long-term access key, as in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`. */
export interface AwsUser {
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Secrets this user may read itself; default none. */
  readonly secrets?: SecretGrant;
  /** Role ARNs this user may assume; default all. */
  readonly canAssume?: SecretGrant;
}

/** An IAM role whose trust policy may require an ExternalId. */
export interface AwsRole {
  readonly arn: string;
  /** The `sts:ExternalId` condition of the trust policy; undefined means none is required. */
  readonly externalId?: string;
  readonly secrets: SecretGrant;
}

/** Whoever signed a request: a user, or a session of an assumed role. */
export interface Principal {
  readonly arn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
  expiresAt: number | undefined;
  readonly secrets: SecretGrant;
  readonly user: AwsUser | undefined;
  readonly roleArn: string | undefined;
}

/** Temporary credentials issued by AssumeRole. */
export interface IssuedSession {
  readonly principal: Principal;
  readonly assumedRoleId: string;
}

/**
 * The server's IAM: users with long-term keys, roles, and the sessions
 * AssumeRole has issued. Secrets readable by a session are the role's only,
 * so tests can prove which identity read what.
 */
export class IdentityRegistry {
  readonly #principals = new Map<string, Principal>();
  readonly #roles = new Map<string, AwsRole>();
  readonly #sessionTtlMs: number;

  constructor(users: readonly AwsUser[], roles: readonly AwsRole[], sessionTtlMs: number) {
    for (const user of users) {
      this.#principals.set(user.accessKeyId, {
        arn: `arn:aws:iam::${TEST_ACCOUNT}:user/${user.name}`,
        accessKeyId: user.accessKeyId,
        secretAccessKey: user.secretAccessKey,
        sessionToken: undefined,
        expiresAt: undefined,
        secrets: user.secrets ?? [],
        user,
        roleArn: undefined,
      });
    }
    for (const role of roles) this.#roles.set(role.arn, role);
    this.#sessionTtlMs = sessionTtlMs;
  }

  /** The principal holding `accessKeyId`, if any. */
  find(accessKeyId: string): Principal | undefined {
    return this.#principals.get(accessKeyId);
  }

  /** The role with this ARN, if any. */
  role(arn: string): AwsRole | undefined {
    return this.#roles.get(arn);
  }

  /** Issues fresh temporary credentials for `role`, named after the session. */
  issueSession(role: AwsRole, sessionName: string): IssuedSession {
    const roleName = role.arn.split('/').pop() ?? role.arn;
    const principal: Principal = {
      arn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${roleName}/${sessionName}`,
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      expiresAt: Date.now() + this.#sessionTtlMs,
      secrets: role.secrets,
      user: undefined,
      roleArn: role.arn,
    };
    this.#principals.set(principal.accessKeyId, principal);
    return { principal, assumedRoleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}:${sessionName}` };
  }

  /** Makes every issued session expired now, as if time had passed. */
  expireSessions(): void {
    for (const principal of this.#principals.values()) {
      if (principal.roleArn !== undefined) principal.expiresAt = Date.now() - 1;
    }
  }
}

/** True when `grant` lets its holder read `name`. */
export function isGranted(grant: SecretGrant, name: string): boolean {
  return grant === '*' || grant.includes(name);
}
