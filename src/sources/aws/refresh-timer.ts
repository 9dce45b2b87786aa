/** How far a refresh may move from its nominal interval, either way, so that a fleet does not poll in step. */
const JITTER_FRACTION = 0.2;

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
 * Calls `onDue` again and again, each time after `intervalMs` ± 20 % chosen
 * at random, re-armed after every call so hosts that started together drift
 * apart. The timer does not keep the process alive.
 */
export function startRefreshTimer(options: RefreshTimerOptions): RefreshTimer {
  const random = options.random ?? Math.random;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = (): void => {
    const factor = 1 - JITTER_FRACTION + 2 * JITTER_FRACTION * random();
    timer = setTimeout(() => {
      if (stopped) return;
      arm();
      options.onDue();
    }, Math.round(options.intervalMs * factor));
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
