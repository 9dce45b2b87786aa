const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A unit a duration may end with. */
export type DurationUnit = keyof typeof UNIT_MS;

const DURATION = /^(\d+(?:\.\d+)?)([a-z]+)$/;

/**
 * Milliseconds for a number followed by one of `units` (`250ms`, `1.5h`,
 * `90d`), unrounded so that a caller can tell a zero from a fraction of a
 * millisecond; undefined when `text` is not of that form.
 */
export function durationToMs(text: string, units: readonly DurationUnit[]): number | undefined {
  const match = DURATION.exec(text);
  const unit = match?.[2] as DurationUnit | undefined;
  if (match === null || unit === undefined || !units.includes(unit)) return undefined;
  return Number(match[1]) * UNIT_MS[unit];
}
