import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { SecretValue } from '../secret-value.js';
import type { SourceConfig } from '../config/config.js';

/**
 * What a source yields in one read: its keys as the source names them
 * (before `keys`, `prefix`, `sanitize` apply) and a version that changes
 * whenever the content may have changed.
 */
export interface Snapshot {
  readonly entries: ReadonlyMap<string, SecretValue>;
  /** A digest of the content, a KV version, an AWS VersionId, a lease id: equal versions mean equal entries. */
  readonly version: string;
  /** When the data last changed, where the source knows it (file mtime, KV updated_time, LastChangedDate); for `audit`. */
  readonly updatedAt?: Date | undefined;
  /** Set when the values come from the last-good cache (the source was unreachable): when they were saved. */
  readonly cachedAt?: Date | undefined;
}

/**
 * A named place secrets come from. The supervisor calls `read` once at
 * start-up (retrying while it throws SourceUnavailableError) and again each
 * time the source reports, through `watch`, that a re-read is due.
 */
export interface SecretSource {
  readonly name: string;
  readonly kind: SourceConfig['type'];
  /**
   * Reads the current secrets. Throws a SecretvisorError: SourceUnavailableError
   * (retry later), SecretDataError, PermissionError or ConfigError. A remote
   * source may answer from what it holds when its version check shows no change.
   */
  read(signal: AbortSignal): Promise<Snapshot>;
  /**
   * Starts noticing changes (file events, refresh timers, lease schedules);
   * calls `onDue` when a re-read is worth doing. May return a promise that
   * settles once watching is live (file watchers finish their first scan).
   */
  watch(onDue: (reason: string) => void): void | Promise<void>;
  /**
   * Stops every timer and watcher and releases what the source holds:
   * leases are revoked when the source sets `revokeOnExit`, or when the
   * caller says no value read will be used (`check`). Idempotent.
   */
  close(options?: CloseOptions): Promise<void>;
  /**
   * When the values read last stop being valid on their own (ms since the epoch): a Vault lease of dynamic
   * credentials, a PKI certificate's notAfter; for health and metrics to show the time left.
   */
  leaseExpiresAt?(): number | undefined;
}

/** How a source is closed. */
export interface CloseOptions {
  /** Revoke dynamic credentials even without `revokeOnExit`: nothing will use them. */
  readonly revokeLeases?: boolean;
}

/** What every source factory receives. */
export interface SourceContext<C extends SourceConfig = SourceConfig> {
  readonly config: C;
  readonly log: Logger;
  /** The runner's clock: every refresh, retry, lease and wait of the source runs on it. */
  readonly clock: Clock;
  /** secretvisor's own environment (VAULT_ADDR, AWS_* and so on). */
  readonly env: NodeJS.ProcessEnv;
  /** The service and pool this process serves, for session names and logs. */
  readonly service: string | undefined;
  readonly pool: string | undefined;
  /** True in zero-config mode (./.env, no config file): fixes cannot point at config keys. */
  readonly zeroConfig?: boolean | undefined;
}
