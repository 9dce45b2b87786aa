import { describe, expect, it } from 'vitest';
import { findOldSecrets } from '../../../src/audit/age-findings.js';
import type { AuditedItem } from '../../../src/audit/audit-report.js';

const DAY = 86_400_000;
const NOW = new Date('2026-06-30T12:00:00Z');
const daysAgo = (days: number): Date => new Date(NOW.getTime() - days * DAY);

const item = (kind: AuditedItem['kind'], location: string, updatedAt: Date | undefined): AuditedItem => ({
  source: kind === 'stray' ? undefined : 'src',
  kind,
  location,
  updatedAt,
});

describe('findOldSecrets', () => {
  it('flags only secrets last changed longer ago than the maximum age', () => {
    const findings = findOldSecrets([item('dotenv', '/old.env', daysAgo(91)), item('dotenv', '/edge.env', daysAgo(90)), item('directory', '/new', daysAgo(3))], 90 * DAY, NOW);
    expect(findings.map((finding) => finding.path)).toEqual(['/old.env']);
    expect(findings[0]).toMatchObject({ kind: 'age', source: 'src' });
    expect(findings[0]?.problem).toContain('(91d ago), longer ago than the maximum age 90d');
  });

  it('judges remote secrets by their last change and tells to rotate them at the source', () => {
    const [vault, aws] = findOldSecrets([item('vault', 'https://vault:8200/v1/secret/data/app', daysAgo(200)), item('aws-secrets-manager', 'aws:eu-central-1:app', daysAgo(100))], 90 * DAY, NOW);
    expect(vault).toMatchObject({ kind: 'age', path: undefined });
    expect(vault?.fix).toContain('Vault');
    expect(aws?.fix).toContain('AWS Secrets Manager');
  });

  it('leaves alone secrets of unknown age and stray .env files', () => {
    expect(findOldSecrets([item('vault', 'kv1', undefined), item('stray', '/app/.env', daysAgo(1000))], DAY, NOW)).toEqual([]);
  });
});
