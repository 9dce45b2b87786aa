import { durationToMs } from '../lib/duration.js';

/** Converts a schema-checked duration such as `250ms` or `5m` to milliseconds. */
export function parseDuration(text: string): number {
  const ms = durationToMs(text, ['ms', 's', 'm', 'h']);
  if (ms === undefined) {
    throw new RangeError(`not a duration: ${text}`);
  }
  return Math.round(ms);
}

/** Prints milliseconds the way a config would say them. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms > 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
