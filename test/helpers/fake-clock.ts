import type { Clock, TimerOptions } from '../../src/clock.js';

/** Lets every pending promise job run (setImmediate comes after all of them). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock whose time moves only when a test says so: {@link FakeClock.advance}
 * runs the timers that fall due on the way, in order, letting promise jobs run
 * after each. `random()` is fixed, so backoff and splay delays are known.
 */
export class FakeClock implements Clock {
  #now = 1_000_000;
  #nextId = 1;
  readonly #timers = new Map<number, { readonly at: number; readonly callback: () => void; readonly keepAlive: boolean }>();
  randomValue = 0.5;

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number, options?: TimerOptions): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback, keepAlive: options?.keepAlive !== false });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  random(): number {
    return this.randomValue;
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.#timers.size;
  }

  /** How many of the waiting timers would keep a real process alive. */
  get keepingAlive(): number {
    return [...this.#timers.values()].filter((timer) => timer.keepAlive).length;
  }

  /** Moves time forward by `ms`, running each timer due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      const due = [...this.#timers].filter(([, timer]) => timer.at <= end).sort(([, a], [, b]) => a.at - b.at)[0];
      if (due === undefined) break;
      const [id, timer] = due;
      this.#timers.delete(id);
      this.#now = timer.at;
      timer.callback();
    }
    this.#now = end;
    await settle();
  }
}
