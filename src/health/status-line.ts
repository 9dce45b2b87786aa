import { formatAge } from '../audit/max-age.js';
import type { HealthReport } from './health-report.js';

/**
 * The one line systemd shows as "Status:" in `systemctl status`: the child's
 * pid and uptime, how many sources are fresh, stale and failing, and the
 * last rotation. Coarse on purpose (uptime in minutes): it is sent only when
 * it changes, and each send runs systemd-notify.
 */
export function formatStatusLine(report: HealthReport, now: number): string {
  const { child } = report;
  const childPart = child.up
    ? `child ${child.pid} up ${formatAge((child.uptimeSeconds ?? 0) * 1000)}${child.ready ? '' : ' (waiting for readiness)'}${child.previousSecrets ? ' (on the previous secrets: the last rotation was rejected)' : ''}`
    : child.lastExit === null
      ? 'starting'
      : 'child not running';
  const count = (state: string): number => report.sources.filter((source) => source.state === state).length;
  const sources = `sources: ${count('fresh')} fresh, ${count('stale')} stale, ${count('failing')} failing`;
  const rotation = report.lastRotationAt === null ? 'no rotation yet' : `last rotation ${formatAge(now - Date.parse(report.lastRotationAt))} ago`;
  return `${childPart}; ${sources}; ${rotation}`;
}
