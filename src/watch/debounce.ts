import { SingleTimer, systemClock, type Clock } from '../clock.js';

/** Options of a {@link Debouncer}. */
export interface DebouncerOptions {
  /** The longest a name waits while events never stop; 4 × the delay, at least 1 s, by default. */
  readonly maxWaitMs?: number | undefined;
  readonly clock?: Clock | undefined;
}

/**
 * Collects names over a quiet period: each `add` restarts the timer, and
 * when `delayMs` pass with no new `add`, `flush` gets every name collected.
 * A burst of events for one rotation becomes one reload; an endless stream
 * still flushes every `maxWaitMs`, so no update waits forever.
 */
export class Debouncer {
  readonly #delayMs: number;
  readonly #maxWaitMs: number;
  readonly #flush: (names: ReadonlySet<string>) => void;
  readonly #clock: Clock;
  readonly #timer: SingleTimer;
  #pending = new Set<string>();
  #firstAddAt = 0;

  constructor(delayMs: number, flush: (names: ReadonlySet<string>) => void, options: DebouncerOptions = {}) {
    this.#delayMs = delayMs;
    this.#maxWaitMs = options.maxWaitMs ?? Math.max(1_000, delayMs * 4);
    this.#flush = flush;
    this.#clock = options.clock ?? systemClock;
    this.#timer = new SingleTimer(this.#clock);
  }

  /** Notes `name` and (re)starts the quiet period. */
  add(name: string): void {
    const now = this.#clock.now();
    if (this.#pending.size === 0) this.#firstAddAt = now;
    this.#pending.add(name);
    const wait = Math.min(this.#delayMs, Math.max(0, this.#firstAddAt + this.#maxWaitMs - now));
    this.#timer.schedule(wait, () => this.#fire());
  }

  /** Drops what is pending. */
  cancel(): void {
    this.#timer.cancel();
    this.#pending = new Set();
  }

  #fire(): void {
    const names = this.#pending;
    this.#pending = new Set();
    this.#flush(names);
  }
}
