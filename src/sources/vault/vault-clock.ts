/**
 * Time as the Vault source sees it. Passed in so that renewal and re-issue
 * schedules can be tested with fake timers; timers never keep the process
 * alive on their own.
 */
export interface VaultClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

/** The real clock. Looks the global timers up on each call, so vitest's fake timers apply to it too. */
export const systemClock: VaultClock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  random: () => Math.random(),
};

/** One pending callback at a time: scheduling again replaces the previous one. */
export class SingleTimer {
  readonly #clock: VaultClock;
  #handle: unknown;

  constructor(clock: VaultClock) {
    this.#clock = clock;
  }

  /** Runs `callback` after `ms`, cancelling whatever was scheduled before. */
  schedule(ms: number, callback: () => void): void {
    this.cancel();
    this.#handle = this.#clock.setTimeout(() => {
      this.#handle = undefined;
      callback();
    }, Math.max(0, Math.round(ms)));
  }

  /** Cancels the pending callback, if any. */
  cancel(): void {
    if (this.#handle !== undefined) this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
