/** How a timer of a {@link Clock} treats the process. */
export interface TimerOptions {
  /**
   * False for a background timer (a refresh, a retry, a renewal): it alone
   * does not keep the process alive, so a one-shot command ends when its
   * work is done. True (the default) for a wait the work depends on.
   */
  readonly keepAlive?: boolean | undefined;
}

/**
 * Time as every module of secretvisor that measures or waits sees it: the
 * current time, one-shot timers and the randomness of jitter. The runner
 * passes one clock down to the sources, the cache, the child and health, so
 * that backoff, refresh, lease and wait loops can be tested with a fake
 * clock; production code uses {@link systemClock}.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once after `ms`; the handle is only for {@link Clock.clearTimeout}. */
  setTimeout(callback: () => void, ms: number, options?: TimerOptions): unknown;
  /** Cancels a timer of this clock; `undefined` (no timer) is fine. */
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

/**
 * The real clock. Looks the global timers up on each call, so vitest's fake
 * timers apply to it too. Its timers keep the process alive like the global
 * ones unless told otherwise: a crash restart waiting out its backoff must
 * not let secretvisor end.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms, options) {
    const handle = setTimeout(callback, ms);
    if (options?.keepAlive === false) handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  random: () => Math.random(),
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. The wait keeps the process alive. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const wake = (): void => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', wake);
      resolve();
    }, ms);
    signal?.addEventListener('abort', wake, { once: true });
  });
}

/** A signal that aborts after `ms` on a clock, and its cancel (call it once the work is done). */
export interface Deadline {
  readonly signal: AbortSignal;
  cancel(): void;
}

/**
 * {@link AbortSignal.timeout} on `clock`: aborts after `ms` with the same
 * TimeoutError, and likewise never keeps the process alive.
 */
export function deadlineOn(clock: Clock, ms: number): Deadline {
  const controller = new AbortController();
  const handle = clock.setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms, { keepAlive: false });
  return { signal: controller.signal, cancel: () => clock.clearTimeout(handle) };
}

/** One pending callback at a time on a clock: scheduling again replaces the previous one. */
export class SingleTimer {
  readonly #clock: Clock;
  readonly #options: TimerOptions;
  #handle: unknown;

  constructor(clock: Clock, options: TimerOptions = {}) {
    this.#clock = clock;
    this.#options = options;
  }

  /** True while a callback is scheduled. */
  get pending(): boolean {
    return this.#handle !== undefined;
  }

  /** Runs `callback` after `ms`, cancelling whatever was scheduled before. */
  schedule(ms: number, callback: () => void): void {
    this.cancel();
    this.#handle = this.#clock.setTimeout(
      () => {
        this.#handle = undefined;
        callback();
      },
      Math.max(0, Math.round(ms)),
      this.#options,
    );
  }

  /** Cancels the pending callback, if any. */
  cancel(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}

/**
 * Calls `callback` every `ms` on `clock` (the first time after `ms`) until the
 * returned timer is cancelled: a background check, so it never keeps the
 * process alive.
 */
export function repeatOn(clock: Clock, ms: number, callback: () => void): SingleTimer {
  const timer = new SingleTimer(clock, { keepAlive: false });
  const tick = (): void => {
    timer.schedule(ms, tick);
    callback();
  };
  timer.schedule(ms, tick);
  return timer;
}
