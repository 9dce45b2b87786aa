/** Delays of a retry schedule. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/** Retries of remote sources while the child runs: 1 s doubling to 5 min. */
export const REMOTE_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 300_000 };

/** Retries of an unreachable source at start-up, until startup.timeout: 250 ms doubling to 10 s. */
export const STARTUP_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000 };

/**
 * The delay before retry number `attempt` (0 first): doubling from
 * `initialMs` up to `maxMs`, with "equal jitter" — between half and all of
 * it — so a fleet that failed together does not retry together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const random = options.random ?? Math.random;
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** A delay of up to `ms`, chosen at random (for splay and refresh jitter). */
export function jitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * random());
}
