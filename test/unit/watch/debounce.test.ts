import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Debouncer } from '../../../src/watch/debounce.js';

describe('Debouncer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('coalesces a burst into one flush with every name', () => {
    const flushes: string[][] = [];
    const debouncer = new Debouncer(100, (names) => flushes.push([...names].sort()));
    debouncer.add('a');
    vi.advanceTimersByTime(50);
    debouncer.add('b');
    vi.advanceTimersByTime(99);
    expect(flushes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(flushes).toEqual([['a', 'b']]);
  });

  it('still flushes within maxWait while events never stop', () => {
    const flushes: number[] = [];
    const debouncer = new Debouncer(100, () => flushes.push(Date.now()), { maxWaitMs: 1_000 });
    const start = Date.now();
    for (let t = 0; t < 3_000; t += 10) {
      debouncer.add('a');
      vi.advanceTimersByTime(10);
    }
    expect(flushes.length).toBeGreaterThanOrEqual(2);
    expect((flushes[0] as number) - start).toBeLessThanOrEqual(1_000);
  });

  it('drops what is pending on cancel', () => {
    const flush = vi.fn();
    const debouncer = new Debouncer(100, flush);
    debouncer.add('a');
    debouncer.cancel();
    vi.advanceTimersByTime(500);
    expect(flush).not.toHaveBeenCalled();
  });
});
