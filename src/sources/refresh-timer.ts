import { SingleTimer, type Clock } from '../clock.js';

/** The share of `refresh` by which a poll may come early, at random, so hosts that started together drift apart. */
export const REFRESH_SPREAD = 0.2;

/**
 * The one refresh policy of every remote source (Vault, AWS Secrets Manager, Parameter Store): the next
 * poll comes after 80–100 % of `refreshMs`, chosen by `random` in [0, 1). Never later than `refresh`, so
 * the setting bounds how stale a value can get; a fifth of the period of spread, so a fleet that booted
 * together is spread over a whole period within a few polls (bench/fleet.ts simulates it).
 */
export function refreshDelay(refreshMs: number, random: number): number {
  return Math.round(refreshMs * (1 - REFRESH_SPREAD * random));
}

/** What a {@link RefreshTimer} needs. */
export interface RefreshTimerOptions {
  readonly clock: Clock;
  readonly refreshMs: number;
  readonly onDue: (reason: string) => void;
}

/**
 * Says when a remote source should be read again: after each {@link refreshDelay}, drawn afresh every
 * time so hosts that started together drift apart. A source may turn polling off (Vault's dynamic
 * credentials follow their lease instead) and on again; either counts the next period from then.
 * Quicker retries of a failed read, with backoff, are the source set's. The timer never keeps the
 * process alive on its own.
 */
export class RefreshTimer {
  readonly #options: RefreshTimerOptions;
  readonly #timer: SingleTimer;
  #poll = true;
  #running = false;

  constructor(options: RefreshTimerOptions) {
    this.#options = options;
    this.#timer = new SingleTimer(options.clock, { keepAlive: false });
  }

  /** Starts calling `onDue`. */
  start(): void {
    this.#running = true;
    this.#scheduleNext();
  }

  /** Turns periodic reads on or off, counting the next period from now. */
  setPolling(poll: boolean): void {
    this.#poll = poll;
    this.#scheduleNext();
  }

  /** Stops calling `onDue`, for good unless started again. */
  stop(): void {
    this.#running = false;
    this.#timer.cancel();
  }

  #scheduleNext(): void {
    if (!this.#running || !this.#poll) {
      this.#timer.cancel();
      return;
    }
    this.#timer.schedule(refreshDelay(this.#options.refreshMs, this.#options.clock.random()), () => {
      // Keep the rhythm even if the supervisor skips this read; a read's outcome may reschedule.
      this.#scheduleNext();
      this.#options.onDue('refresh');
    });
  }
}
