import { describe, expect, it } from 'vitest';
import { durationToMs, type DurationUnit } from '../../../src/lib/duration.js';

const ALL: readonly DurationUnit[] = ['ms', 's', 'm', 'h', 'd'];

describe('durationToMs', () => {
  it.each([
    ['250ms', 250],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['90d', 90 * 86_400_000],
    ['1.5s', 1_500],
    ['0.0004ms', 0.0004],
    ['0s', 0],
    ['007m', 420_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(durationToMs(text, ALL)).toBe(ms);
  });

  it.each(['', '10', 's', '10 s', '-1s', '+1s', '1e3ms', '.5s', '5.s', '5S', '5mh', '5w', ' 5s', '5s '])('refuses %j', (text) => {
    expect(durationToMs(text, ALL)).toBeUndefined();
  });

  it('accepts only the units it is given', () => {
    expect(durationToMs('2d', ['ms', 's', 'm', 'h'])).toBeUndefined();
    expect(durationToMs('2h', ['ms', 's', 'm', 'h'])).toBe(7_200_000);
  });
});
