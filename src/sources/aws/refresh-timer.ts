import { refreshDelay } from '../../watch/refresh-delay.js';

/** Options of {@link startRefreshTimer}. */
export interface RefreshTimerOptions {
  readonly intervalMs: number;
  readonly onDue: () => void;
  /** A number in [0, 1); `Math.random` by default. */
  readonly random?: () => number;
}

/** A running refresh timer. */
export interface RefreshTimer {
  /** Stops it for good. Idempotent. */
  stop(): void;
}

/**
 * Calls `onDue` again and again, each time after 80–100 % of `intervalMs`
 * chosen at random (the policy of every remote source, see refresh-delay.ts),
 * re-armed after every call so hosts that started together drift apart. The
 * timer does not keep the process alive.
 */
export function startRefreshTimer(options: RefreshTimerOptions): RefreshTimer {
  const random = options.random ?? Math.random;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = (): void => {
    timer = setTimeout(() => {
      if (stopped) return;
      arm();
      options.onDue();
    }, refreshDelay(options.intervalMs, random()));
    timer.unref();
  };
  arm();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
