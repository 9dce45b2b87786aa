import { describe, expect, it } from 'vitest';
import { refreshDelay } from '../../../src/watch/refresh-delay.js';

describe('refreshDelay: the one refresh policy of remote sources', () => {
  it.each([
    [300_000, 0, 300_000],
    [300_000, 0.5, 270_000],
    [300_000, 0.999_999, 240_000],
    [200, 0.999_999, 160],
  ])('polls a %s ms refresh after 80–100 %% of it (random %s → %s ms), never later', (refreshMs, random, expected) => {
    expect(refreshDelay(refreshMs, random)).toBe(expected);
  });
});
