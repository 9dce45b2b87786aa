import { describe, expect, it } from 'vitest';
import { getReissueDelay, getRenewDelay, getRetryDelay } from '../../../../src/sources/vault/schedule.js';

describe('Vault schedules', () => {
  it.each([
    [0, 40_000],
    [0.5, 38_000],
    [0.999_999, 36_000],
  ])('renews a 60 s TTL at about 2/3 of it (jitter %s → %s ms)', (random, expected) => {
    expect(getRenewDelay(60_000, random)).toBeCloseTo(expected, 0);
  });

  it.each([
    [0, 85_000],
    [0.5, 87_500],
    [0.999_999, 90_000],
  ])('re-issues a 100 s lease at 0.85–0.9 of its TTL (jitter %s → %s ms)', (random, expected) => {
    expect(getReissueDelay(100_000, random)).toBeCloseTo(expected, 0);
  });

  it.each([
    [1, 500, 1_000],
    [2, 1_000, 2_000],
    [3, 2_000, 4_000],
    [10, 150_000, 300_000],
    [50, 150_000, 300_000],
  ])('after failure %s waits between %s and %s ms: 1 s doubling to 5 min, jittered', (failures, low, high) => {
    expect(getRetryDelay(failures, 0)).toBe(low);
    expect(getRetryDelay(failures, 0.999_999)).toBeCloseTo(high, -1);
  });
});
