import { randomBytes, randomUUID } from 'node:crypto';

/** The AWS account every test resource lives in. */
export const TEST_ACCOUNT = '123456789012';

/** One version of a stored secret. */
export interface StoredVersion {
  readonly versionId: string;
  readonly stages: Set<string>;
  readonly secretString: string | undefined;
  readonly secretBinary: Uint8Array | undefined;
  readonly createdAt: Date;
}

/** A secret with its versions, as Secrets Manager keeps it. */
export interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: Date;
  lastChangedAt: Date;
  readonly versions: Map<string, StoredVersion>;
}

/** A value to store: a string, binary bytes, or an object stored as its JSON text. */
export type SecretInput = string | Uint8Array | Readonly<Record<string, unknown>>;

/**
 * The server's secrets. `put` adds a version and moves AWSCURRENT to it (the
 * old current one becomes AWSPREVIOUS), the way PutSecretValue and rotation do.
 */
export class SecretStore {
  readonly #secrets = new Map<string, StoredSecret>();
  readonly #region: string;

  constructor(region: string) {
    this.#region = region;
  }

  /** Stores a new version of `name` (creating the secret) and returns its VersionId. */
  put(name: string, value: SecretInput, stages: readonly string[] = ['AWSCURRENT']): string {
    const now = new Date();
    const secret = this.#secrets.get(name) ?? this.#create(name, now);
    const version: StoredVersion = {
      versionId: randomUUID(),
      stages: new Set(),
      secretString: typeof value === 'string' ? value : value instanceof Uint8Array ? undefined : JSON.stringify(value),
      secretBinary: value instanceof Uint8Array ? value : undefined,
      createdAt: now,
    };
    secret.versions.set(version.versionId, version);
    for (const stage of stages) this.moveStage(name, stage, version.versionId);
    secret.lastChangedAt = now;
    return version.versionId;
  }

  /** Attaches `stage` to `versionId`, taking it from whichever version held it (AWSCURRENT leaves AWSPREVIOUS behind). */
  moveStage(name: string, stage: string, versionId: string): void {
    const secret = this.#require(name);
    const target = secret.versions.get(versionId);
    if (target === undefined) throw new Error(`test secret ${name} has no version ${versionId}`);
    for (const version of secret.versions.values()) {
      if (version === target || !version.stages.delete(stage)) continue;
      if (stage === 'AWSCURRENT') this.moveStage(name, 'AWSPREVIOUS', version.versionId);
    }
    target.stages.add(stage);
    secret.lastChangedAt = new Date();
  }

  /** Deletes a secret at once, as `ForceDeleteWithoutRecovery` does. */
  remove(name: string): void {
    this.#secrets.delete(name);
  }

  /** The secret named `id` (a name or its full ARN). */
  find(id: string): StoredSecret | undefined {
    const byName = this.#secrets.get(id);
    if (byName !== undefined) return byName;
    return [...this.#secrets.values()].find((secret) => secret.arn === id);
  }

  /** The version of `secret` that holds `stage`. */
  versionWithStage(secret: StoredSecret, stage: string): StoredVersion | undefined {
    return [...secret.versions.values()].find((version) => version.stages.has(stage));
  }

  #create(name: string, now: Date): StoredSecret {
    const suffix = randomBytes(4).toString('base64url').slice(0, 6);
    const secret: StoredSecret = {
      name,
      arn: `arn:aws:secretsmanager:${this.#region}:${TEST_ACCOUNT}:secret:${name}-${suffix}`,
      createdAt: now,
      lastChangedAt: now,
      versions: new Map(),
    };
    this.#secrets.set(name, secret);
    return secret;
  }

  #require(name: string): StoredSecret {
    const secret = this.#secrets.get(name);
    if (secret === undefined) throw new Error(`no test secret named ${name}`);
    return secret;
  }
}
