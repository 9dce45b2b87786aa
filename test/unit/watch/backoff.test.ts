import { describe, expect, it } from 'vitest';
import { REMOTE_BACKOFF, backoffDelay, jitter } from '../../../src/watch/backoff.js';

describe('backoffDelay', () => {
  it.each([
    [0, 500, 1_000],
    [1, 1_000, 2_000],
    [5, 16_000, 32_000],
    [20, 150_000, 300_000],
  ])('attempt %i waits between %i and %i ms (1 s doubling to 5 min, equal jitter)', (attempt, low, high) => {
    expect(backoffDelay(attempt, { ...REMOTE_BACKOFF, random: () => 0 })).toBe(low);
    expect(backoffDelay(attempt, { ...REMOTE_BACKOFF, random: () => 0.999999 })).toBeLessThanOrEqual(high);
  });

  it('spreads a splay uniformly below its bound', () => {
    expect(jitter(1_000, () => 0)).toBe(0);
    expect(jitter(1_000, () => 0.5)).toBe(500);
  });
});
