import { UsageError } from '../errors.js';

const DAY_MS = 86_400_000;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS } as const;

/** The default of `audit --max-age`: rotate secrets at least every 90 days. */
export const DEFAULT_MAX_AGE = '90d';

/**
 * Parses `audit --max-age`: a number and a unit, where `d` (days) joins the
 * config's `ms`, `s`, `m` and `h`. Anything else is a usage error (exit 64).
 */
export function parseMaxAge(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (match === null || Number(match[1]) === 0) {
    throw new UsageError(`--max-age ${text} is not a duration`, { hint: 'give a number and a unit, such as 90d, 36h or 30m' });
  }
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** An age the way an operator reads it: whole days, else hours, else minutes. */
export function formatAge(ms: number): string {
  if (ms >= DAY_MS) return `${Math.floor(ms / DAY_MS)}d`;
  if (ms >= UNIT_MS.h) return `${Math.floor(ms / UNIT_MS.h)}h`;
  if (ms >= UNIT_MS.m) return `${Math.floor(ms / UNIT_MS.m)}m`;
  return '<1m';
}
