import { describe, expect, it } from 'vitest';
import { getCertificateRenewal } from '../../../../src/sources/vault/pki-schedule.js';

const DAY = 86_400_000;

describe('certificate re-issue schedule', () => {
  it.each([
    [0, 30_000],
    [0.999_999, 27_000],
  ])('a 45 s certificate with renewBefore 12s: at about 2/3 of it (jitter %s → %s ms)', (random, expected) => {
    expect(getCertificateRenewal(45_000, 12_000, random)).toEqual({ delayMs: expect.closeTo(expected, 0), marginTooLong: false });
  });

  it('renewBefore wins over 2/3 when it asks for earlier: 60 s with renewBefore 25s → at 35 s', () => {
    expect(getCertificateRenewal(60_000, 25_000, 0)).toEqual({ delayMs: 35_000, marginTooLong: false });
  });

  it('a renewBefore longer than 2/3 of the lifetime gives way to a third of it, and says so', () => {
    expect(getCertificateRenewal(60_000, 60_000, 0)).toEqual({ delayMs: 20_000, marginTooLong: true });
    expect(getCertificateRenewal(60_000, 45_000, 0.5)).toEqual({ delayMs: 20_000, marginTooLong: true });
  });

  it('a 90-day certificate with the default 1m margin: at 60 days, up to 6 days earlier at random', () => {
    expect(getCertificateRenewal(90 * DAY, 60_000, 0).delayMs).toBe(60 * DAY);
    expect(getCertificateRenewal(90 * DAY, 60_000, 0.5).delayMs).toBeCloseTo(57 * DAY, -1);
  });

  it('a certificate already past its end is due at once', () => {
    expect(getCertificateRenewal(-5_000, 60_000, 0).delayMs).toBe(0);
  });
});
