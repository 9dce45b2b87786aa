import { describe, expect, it } from 'vitest';
import { auditExitCode, type AuditFinding } from '../../../src/audit/audit-report.js';

const finding = (kind: AuditFinding['kind'], exitCode?: number): AuditFinding => ({
  kind,
  source: 'platform',
  path: '/etc/noxus/platform.env',
  problem: 'a problem',
  fix: 'a fix',
  exitCode,
});

describe('auditExitCode', () => {
  it.each([
    ['nothing found', [], 0],
    ['only rotation age', [finding('age')], 1],
    ['a permission finding, whatever else', [finding('age'), finding('unreadable', 69), finding('permission')], 77],
    ['an unreachable source before age', [finding('age'), finding('unreadable', 69)], 69],
    ['unusable data', [finding('unreadable', 65)], 65],
    ['an unreadable source of unknown kind', [finding('unreadable')], 1],
  ] as const)('%s → %i', (_what, findings, code) => {
    expect(auditExitCode(findings)).toBe(code);
  });
});
