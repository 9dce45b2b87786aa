import { getRenewDelay } from './schedule.js';

/** When to re-issue a certificate, and whether `renewBefore` had to give way. */
export interface CertificateRenewal {
  readonly delayMs: number;
  /** True when `renewBefore` leaves less than a third of the lifetime: the third wins, so certificates are not re-issued back to back. */
  readonly marginTooLong: boolean;
}

/**
 * When to re-issue a certificate valid for `lifetimeMs` more: at about 2/3
 * of it (0–10 % earlier at random, so a fleet spreads out), and no later
 * than `renewBeforeMs` before it ends. Never sooner than a third of it.
 */
export function getCertificateRenewal(lifetimeMs: number, renewBeforeMs: number, random: number): CertificateRenewal {
  const latest = lifetimeMs - renewBeforeMs;
  const soonest = lifetimeMs / 3;
  if (latest < soonest) return { delayMs: Math.max(0, soonest), marginTooLong: true };
  return { delayMs: Math.min(getRenewDelay(lifetimeMs, random), latest), marginTooLong: false };
}
