import { formatTable } from '../lib/format-table.js';
import { auditExitCode, type AuditedItem, type AuditFinding, type AuditReport } from './audit-report.js';
import { formatAge } from './max-age.js';

/** The report for a terminal: what was checked, what needs attention and how to fix it, then one summary line. */
export function formatAuditTable(report: AuditReport): string {
  const rows = report.items.map((item) => [
    item.source ?? '-',
    item.kind,
    item.location,
    item.updatedAt === undefined ? 'unknown' : item.updatedAt.toISOString().slice(0, 10),
    item.updatedAt === undefined ? '-' : formatAge(report.now.getTime() - item.updatedAt.getTime()),
    itemStatus(item, report),
  ]);
  const lines = [`config: ${report.config ?? '(zero-config: ./.env)'}`, `max age: ${formatAge(report.maxAgeMs)}`, ''];
  lines.push(formatTable(['SOURCE', 'KIND', 'SECRET', 'LAST CHANGED', 'AGE', 'STATUS'], rows));
  if (report.findings.length > 0) {
    lines.push('needs attention:');
    for (const finding of report.findings) {
      const where = finding.source === undefined ? 'stray .env file' : `source ${finding.source}`;
      lines.push(`  [${finding.kind}] ${where}: ${finding.problem}`, `      fix: ${finding.fix}`);
    }
    lines.push('');
  }
  lines.push(summaryLine(report));
  return lines.join('\n') + '\n';
}

/** The report as one JSON document, for monitoring: items, findings and the summary with the exit code. */
export function formatAuditJson(report: AuditReport): string {
  return (
    JSON.stringify(
      {
        config: report.config ?? null,
        checkedAt: report.now.toISOString(),
        maxAge: formatAge(report.maxAgeMs),
        maxAgeMs: report.maxAgeMs,
        items: report.items.map((item) => ({
          source: item.source ?? null,
          kind: item.kind,
          location: item.location,
          updatedAt: item.updatedAt?.toISOString() ?? null,
          ageMs: item.updatedAt === undefined ? null : report.now.getTime() - item.updatedAt.getTime(),
          status: itemStatus(item, report),
        })),
        findings: report.findings.map((finding) => ({ ...finding, source: finding.source ?? null, path: finding.path ?? null })),
        summary: { ...counts(report), exitCode: auditExitCode(report.findings), line: summaryLine(report) },
      },
      null,
      2,
    ) + '\n'
  );
}

function counts(report: AuditReport): { sources: number; secrets: number; permission: number; age: number; unreadable: number; data: number } {
  const of = (kind: AuditFinding['kind']): number => report.findings.filter((finding) => finding.kind === kind).length;
  // A file two sources read is one secret.
  const secrets = new Set(report.items.filter((item) => item.kind !== 'stray').map((item) => item.location)).size;
  return { sources: report.sources, secrets, permission: of('permission'), age: of('age'), unreadable: of('unreadable'), data: of('data') };
}

function summaryLine(report: AuditReport): string {
  const { sources, secrets, permission, age, unreadable, data } = counts(report);
  const stray = report.items.filter((item) => item.kind === 'stray').length;
  const checked = `${sources} ${sources === 1 ? 'source' : 'sources'}, ${secrets} ${secrets === 1 ? 'secret' : 'secrets'}${stray > 0 ? `, ${stray} stray .env ${stray === 1 ? 'file' : 'files'}` : ''}`;
  const code = auditExitCode(report.findings);
  if (code === 0) return `ok: ${checked} checked; nothing needs attention`;
  // Bad data is named only when met, so the usual summary keeps its three counts.
  const found = [`${permission} permission`, `${age} too old`, `${unreadable} unreadable`, ...(data > 0 ? [`${data} bad data`] : [])].join(', ');
  return `needs attention: ${checked} checked; ${found} (exit ${code})`;
}

const STATUS: Readonly<Record<AuditFinding['kind'], string>> = { permission: 'unsafe', age: 'too old', unreadable: 'unreadable', data: 'bad data' };

function itemStatus(item: AuditedItem, report: AuditReport): string {
  const problems = new Set(
    report.findings
      .filter((finding) => finding.path === item.location || (finding.path === undefined && finding.source === item.source && item.kind !== 'stray'))
      .map((finding) => STATUS[finding.kind]),
  );
  return problems.size === 0 ? 'ok' : [...problems].join(', ');
}
