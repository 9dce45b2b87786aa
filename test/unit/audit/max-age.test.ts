import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { DEFAULT_MAX_AGE, formatAge, parseMaxAge } from '../../../src/audit/max-age.js';

const DAY = 86_400_000;

describe('parseMaxAge', () => {
  it.each([
    ['90d', 90 * DAY],
    ['1.5d', 1.5 * DAY],
    ['36h', 36 * 3_600_000],
    ['30m', 1_800_000],
    ['45s', 45_000],
    ['250ms', 250],
  ])('reads %s', (text, ms) => {
    expect(parseMaxAge(text)).toBe(ms);
  });

  it('defaults to 90 days', () => {
    expect(parseMaxAge(DEFAULT_MAX_AGE)).toBe(90 * DAY);
  });

  it.each(['90', '90 days', '3w', '-1d', '0d', ''])('refuses %j as a usage error that shows the form', (text) => {
    expect(() => parseMaxAge(text)).toThrow(UsageError);
    expect(() => parseMaxAge(text)).toThrow(/--max-age .* is not a duration/);
  });
});

describe('formatAge', () => {
  it.each([
    [120 * DAY + 5_000, '120d'],
    [DAY, '1d'],
    [5 * 3_600_000 + 1, '5h'],
    [61_000, '1m'],
    [59_000, '<1m'],
  ])('shows %i ms as %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});
