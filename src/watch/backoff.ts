/** Delays of a retry schedule. */
export interface BackoffSchedule {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** A retry schedule with its randomness. */
export interface BackoffOptions extends BackoffSchedule {
  /** A number in [0, 1): the clock's `random`. */
  readonly random: () => number;
}

/** Retries of remote sources while the child runs: 1 s doubling to 5 min. */
export const REMOTE_BACKOFF: BackoffSchedule = { initialMs: 1_000, maxMs: 300_000 };

/** Retries of an unreachable source at start-up, until startup.timeout: 250 ms doubling to 10 s. */
export const STARTUP_BACKOFF: BackoffSchedule = { initialMs: 250, maxMs: 10_000 };

/**
 * The delay before retry number `attempt` (0 first): doubling from
 * `initialMs` up to `maxMs`, with "equal jitter" — between half and all of
 * it — so a fleet that failed together does not retry together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * options.random());
}

/** A delay of up to `ms`, chosen by `random` in [0, 1) (for splay). */
export function jitter(ms: number, random: () => number): number {
  return Math.round(ms * random());
}
