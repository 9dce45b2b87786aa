import { REMOTE_BACKOFF, backoffDelay } from '../../watch/backoff.js';

// Tokens and renewable leases are renewed after this share of their TTL;
// leases that cannot be renewed are re-issued between the two shares below.
const RENEW_FRACTION = 2 / 3;
const REISSUE_FRACTION_MIN = 0.85;
const REISSUE_FRACTION_MAX = 0.9;

/** When to renew a token or lease of `ttlMs`: about 2/3 of it, 0–10 % earlier at random so a fleet spreads out. */
export function getRenewDelay(ttlMs: number, random: number): number {
  return ttlMs * RENEW_FRACTION * (1 - 0.1 * random);
}

/** When to re-issue a lease that cannot (or can no longer) be renewed: at 85–90 % of `ttlMs`, at random. */
export function getReissueDelay(ttlMs: number, random: number): number {
  return ttlMs * (REISSUE_FRACTION_MIN + (REISSUE_FRACTION_MAX - REISSUE_FRACTION_MIN) * random);
}

/** How long to wait after the `failures`-th failure in a row (1, 2, …): the remote schedule, 1 s doubling to 5 min, jittered. */
export function getRetryDelay(failures: number, random: number): number {
  return backoffDelay(Math.max(0, failures - 1), { ...REMOTE_BACKOFF, random: () => random });
}
