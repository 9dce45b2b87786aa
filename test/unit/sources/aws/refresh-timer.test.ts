import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startRefreshTimer } from '../../../../src/sources/aws/refresh-timer.js';

describe('startRefreshTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    [0, 1000],
    [0.5, 900],
    [0.999_999, 800],
  ])('with random %s waits %sms of a 1000ms interval', (random, expected) => {
    const onDue = vi.fn();
    const timer = startRefreshTimer({ intervalMs: 1000, onDue, random: () => random });
    vi.advanceTimersByTime(expected - 1);
    expect(onDue).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onDue).toHaveBeenCalledTimes(1);
    timer.stop();
  });

  it('re-arms after each call with a fresh jitter', () => {
    const draws = [0, 1 - Number.EPSILON, 0.5];
    const onDue = vi.fn();
    const timer = startRefreshTimer({ intervalMs: 1000, onDue, random: () => draws.shift() ?? 0.5 });
    vi.advanceTimersByTime(1000);
    expect(onDue).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(799);
    expect(onDue).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(onDue).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(900);
    expect(onDue).toHaveBeenCalledTimes(3);
    timer.stop();
  });

  it('never calls again once stopped, even when stopped from inside a call', () => {
    const onDue = vi.fn(() => timer.stop());
    const timer = startRefreshTimer({ intervalMs: 100, onDue, random: () => 0.5 });
    vi.advanceTimersByTime(10_000);
    expect(onDue).toHaveBeenCalledTimes(1);
    timer.stop();
  });
});
