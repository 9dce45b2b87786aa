import type { ExitReason } from '../child/child-events.js';
import type { SourceConfig } from '../config/config.js';

/** Why a child was restarted, as counted (the first start is not a restart). */
export type RestartReason = 'rotation' | 'crash' | 'signal';

/** The restart reasons, in the order reports show them. */
export const RESTART_REASONS: readonly RestartReason[] = ['rotation', 'crash', 'signal'];

/**
 * How one source stands: `fresh` (its last read worked), `failing` (reads
 * fail, but the child's values are still within the source's refresh),
 * `stale` (the child runs on values older than the refresh allows, or from
 * the cache), `starting` (not read yet).
 */
export type SourceState = 'starting' | 'fresh' | 'failing' | 'stale';

/** One source in `/status`. Times are ISO 8601; nothing here is a value. */
export interface SourceHealth {
  readonly name: string;
  readonly kind: SourceConfig['type'];
  readonly state: SourceState;
  readonly stale: boolean;
  readonly refreshSeconds: number;
  readonly lastSuccessAt: string | null;
  readonly consecutiveFailures: number;
  readonly failuresTotal: number;
  /** The last failure's message (names keys, paths and sources, never a value); null once a read works again. */
  readonly lastError: string | null;
  /** Seconds left on the Vault lease of dynamic credentials or on a pki certificate; null when the source holds neither. */
  readonly leaseSecondsLeft: number | null;
  /** When the secret last changed, where the source knows it (file mtime, KV v2 created_time, AWS LastChangedDate). */
  readonly secretUpdatedAt: string | null;
  readonly secretAgeSeconds: number | null;
  /** Whether the child runs on values from the last-good cache, and when they were saved. */
  readonly fromCache: boolean;
  readonly cachedAt: string | null;
  readonly cacheAgeSeconds: number | null;
}

/** The child in `/status`. */
export interface ChildHealth {
  readonly up: boolean;
  readonly ready: boolean;
  /** The child runs on the secrets from before the last rotation: that rotation's new child failed (strategy overlap). */
  readonly previousSecrets: boolean;
  readonly pid: number | null;
  readonly startedAt: string | null;
  readonly uptimeSeconds: number | null;
  readonly restarts: Readonly<Record<RestartReason, number>>;
  readonly lastExit: {
    readonly code: number | null;
    readonly signal: string | null;
    readonly reason: ExitReason;
    readonly at: string;
  } | null;
}

/** The whole of `/status`: what `secretvisor status` prints and `/healthz` judges. */
export interface HealthReport {
  readonly healthy: boolean;
  /** Why it is not healthy, one sentence each; empty when healthy. */
  readonly reasons: readonly string[];
  readonly service: string | null;
  readonly pool: string | null;
  /** secretvisor's own pid and start time. */
  readonly pid: number;
  readonly startedAt: string;
  readonly now: string;
  /** Changes of secrets that reached the child (restart, signal or nothing to do), and the last one. */
  readonly rotations: number;
  readonly lastRotationAt: string | null;
  /** New sets refused (invalid data, a missing required key), and overlap rotations whose new child failed: the child kept its last good secrets. */
  readonly rotationsRejected: number;
  readonly child: ChildHealth;
  readonly sources: readonly SourceHealth[];
}
