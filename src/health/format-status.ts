import { formatAge } from '../audit/max-age.js';
import { formatTable } from '../lib/format-table.js';
import type { HealthReport, SourceHealth } from './health-report.js';

/** `secretvisor status` as an operator reads it: a summary, the child, then one row per source. No value appears in a report. */
export function formatStatusTable(report: HealthReport): string {
  const now = Date.parse(report.now);
  const ago = (iso: string | null): string => (iso === null ? '-' : `${formatAge(now - Date.parse(iso))} ago`);
  const seconds = (value: number | null): string => (value === null ? '-' : formatAge(value * 1000));
  const { child } = report;
  const who = `${report.service === null ? 'service (none named)' : `service ${report.service}`}${report.pool === null ? '' : `, pool ${report.pool}`}`;
  const lines = [
    `${who}: ${report.healthy ? 'healthy' : 'UNHEALTHY'} (secretvisor pid ${report.pid}, up ${ago(report.startedAt).replace(/ ago$/, '')})`,
    ...report.reasons.map((reason) => `  - ${reason}`),
    `child: ${child.up ? `pid ${child.pid}, up ${seconds(child.uptimeSeconds)} (since ${child.startedAt}), ${child.ready ? 'ready' : 'not ready'}${child.previousSecrets ? ', on the previous secrets (the last rotation was rejected)' : ''}` : 'not running'}`,
    `restarts: ${Object.entries(child.restarts)
      .map(([reason, count]) => `${reason} ${count}`)
      .join(', ')}${child.lastExit === null ? '' : `; last exit: ${exitText(child.lastExit)} at ${child.lastExit.at}`}`,
    `rotations: ${report.rotations}${report.lastRotationAt === null ? '' : ` (last ${ago(report.lastRotationAt)})`}, rejected ${report.rotationsRejected}`,
    '',
  ];
  const header = ['SOURCE', 'KIND', 'STATE', 'LAST READ', 'FAILURES', 'SECRET AGE', 'LEASE LEFT', 'CACHE', 'LAST ERROR'];
  const rows = report.sources.map((source) => [
    source.name,
    source.kind,
    source.state,
    ago(source.lastSuccessAt),
    String(source.consecutiveFailures),
    seconds(source.secretAgeSeconds),
    seconds(source.leaseSecondsLeft),
    cacheText(source),
    source.lastError ?? '-',
  ]);
  return `${lines.join('\n')}\n${formatTable(header, rows)}`;
}

function exitText(exit: NonNullable<HealthReport['child']['lastExit']>): string {
  return `${exit.signal === null ? `code ${exit.code}` : exit.signal} (${exit.reason})`;
}

function cacheText(source: SourceHealth): string {
  return source.fromCache ? `saved ${formatAge((source.cacheAgeSeconds ?? 0) * 1000)} ago` : '-';
}
