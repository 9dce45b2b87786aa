import type { AuditedItem, AuditFinding } from './audit-report.js';
import { formatAge } from './max-age.js';

/**
 * A finding for every configured secret whose last change is more than
 * `maxAgeMs` before `now`. Items whose age is unknown (a KV v1 secret) and
 * stray `.env` files (not secrets of the config) are not judged.
 */
export function findOldSecrets(items: readonly AuditedItem[], maxAgeMs: number, now: Date): AuditFinding[] {
  const findings: AuditFinding[] = [];
  for (const item of items) {
    if (item.kind === 'stray' || item.updatedAt === undefined) continue;
    const age = now.getTime() - item.updatedAt.getTime();
    if (age <= maxAgeMs) continue;
    const remote = item.kind === 'vault' || item.kind === 'aws-secrets-manager' || item.kind === 'aws-ssm';
    findings.push({
      kind: 'age',
      source: item.source,
      path: remote ? undefined : item.location,
      problem: `${item.location} last changed ${item.updatedAt.toISOString()} (${formatAge(age)} ago), longer ago than the maximum age ${formatAge(maxAgeMs)}`,
      fix: remote
        ? `rotate the secret in ${item.kind === 'vault' ? 'Vault' : 'AWS Secrets Manager'}; secretvisor picks the new version up at its next refresh`
        : 'rotate it: write the new value in place (secretvisor applies it), then revoke the old one where it was issued',
    });
  }
  return findings;
}
