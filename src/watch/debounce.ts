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
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #firstAddAt = 0;

  constructor(delayMs: number, flush: (names: ReadonlySet<string>) => void, maxWaitMs = Math.max(1_000, delayMs * 4)) {
    this.#delayMs = delayMs;
    this.#maxWaitMs = maxWaitMs;
    this.#flush = flush;
  }

  /** Notes `name` and (re)starts the quiet period. */
  add(name: string): void {
    const now = Date.now();
    if (this.#pending.size === 0) this.#firstAddAt = now;
    this.#pending.add(name);
    clearTimeout(this.#timer);
    const wait = Math.min(this.#delayMs, Math.max(0, this.#firstAddAt + this.#maxWaitMs - now));
    this.#timer = setTimeout(() => this.#fire(), wait);
  }

  /** Drops what is pending. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = new Set();
  }

  #fire(): void {
    const names = this.#pending;
    this.#pending = new Set();
    this.#timer = undefined;
    this.#flush(names);
  }
}
