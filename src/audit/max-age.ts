import { UsageError } from '../errors.js';
import { durationToMs } from '../lib/duration.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** The default of `audit --max-age`: rotate secrets at least every 90 days. */
export const DEFAULT_MAX_AGE = '90d';

/**
 * Parses `audit --max-age`: a number and a unit, where `d` (days) joins the
 * config's `ms`, `s`, `m` and `h`. Anything else is a usage error (exit 64).
 */
export function parseMaxAge(text: string): number {
  const ms = durationToMs(text, ['ms', 's', 'm', 'h', 'd']);
  if (ms === undefined || ms === 0) {
    throw new UsageError(`--max-age ${text} is not a duration`, { hint: 'give a number and a unit, such as 90d, 36h or 30m' });
  }
  return Math.round(ms);
}

/** An age the way an operator reads it: whole days, else hours, else minutes. */
export function formatAge(ms: number): string {
  if (ms >= DAY_MS) return `${Math.floor(ms / DAY_MS)}d`;
  if (ms >= HOUR_MS) return `${Math.floor(ms / HOUR_MS)}h`;
  if (ms >= MINUTE_MS) return `${Math.floor(ms / MINUTE_MS)}m`;
  return '<1m';
}
