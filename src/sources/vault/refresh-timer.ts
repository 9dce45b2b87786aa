import { SingleTimer, type VaultClock } from './vault-clock.js';
import { refreshDelay } from '../../watch/refresh-delay.js';

/** What a {@link RefreshTimer} needs. */
export interface RefreshTimerOptions {
  readonly clock: VaultClock;
  readonly refreshMs: number;
  readonly onDue: (reason: string) => void;
}

/**
 * Says when a Vault source should be read again: every `refresh`, up to
 * 20 % earlier at random so a fleet spreads out (the policy of every remote source). Dynamic credentials follow
 * their lease instead, so the source turns polling off after a good read of
 * them, and on again after any failed read. (Quicker retries of a failed
 * read, with backoff, are the supervisor's.)
 */
export class RefreshTimer {
  readonly #options: RefreshTimerOptions;
  readonly #timer: SingleTimer;
  #poll = true;
  #running = false;

  constructor(options: RefreshTimerOptions) {
    this.#options = options;
    this.#timer = new SingleTimer(options.clock);
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

  /** Stops calling `onDue`. */
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
      // Keep the rhythm even if the supervisor skips this read; a read's outcome reschedules.
      this.#scheduleNext();
      this.#options.onDue('refresh');
    });
  }
}
