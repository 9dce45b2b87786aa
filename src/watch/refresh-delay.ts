/** The share of `refresh` by which a poll may come early, at random, so hosts that started together drift apart. */
export const REFRESH_SPREAD = 0.2;

/**
 * The one refresh policy of every remote source (Vault, AWS): the next poll comes after 80–100 % of
 * `refreshMs`, chosen by `random` in [0, 1). Never later than `refresh`, so the setting bounds how stale a
 * value can get; a fifth of the period of spread, so a fleet that booted together is spread over a whole
 * period within a few polls (bench/fleet.ts simulates it).
 */
export function refreshDelay(refreshMs: number, random: number): number {
  return Math.round(refreshMs * (1 - REFRESH_SPREAD * random));
}
