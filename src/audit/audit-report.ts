import { ExitCode } from '../errors.js';
import type { SourceKind } from '../config/config.js';

/** What kind of attention a finding asks for. */
export type AuditFindingKind = 'permission' | 'age' | 'unreadable' | 'data';

/** One thing an operator should fix, with the command or step that fixes it. */
export interface AuditFinding {
  readonly kind: AuditFindingKind;
  /** The config source it belongs to; undefined for a stray `.env` file. */
  readonly source: string | undefined;
  /** The file or folder concerned; undefined for a remote secret. */
  readonly path: string | undefined;
  readonly problem: string;
  readonly fix: string;
  /** For `unreadable` and `data`: the exit code of the error met (69 unreachable, 65 bad data, …). */
  readonly exitCode?: number | undefined;
}

/** One place that holds secrets: a secret file, a key file of a folder, a remote secret. */
export interface AuditedItem {
  /** The config source, or undefined for a stray `.env` file. */
  readonly source: string | undefined;
  readonly kind: SourceKind | 'stray';
  /** A path, or the remote secret's name (Vault path, AWS secret id). */
  readonly location: string;
  /** When its content last changed, where known. */
  readonly updatedAt: Date | undefined;
}

/** What `audit` found, ready to print. */
export interface AuditReport {
  readonly config: string | undefined;
  readonly maxAgeMs: number;
  readonly now: Date;
  readonly sources: number;
  readonly items: readonly AuditedItem[];
  readonly findings: readonly AuditFinding[];
}

/**
 * The exit code of a report: 77 when any permission finding, else the code
 * of the first source that could not be read or holds data `check` refuses
 * (69 unreachable, 65 bad data, …), else 1 when only rotation age needs
 * attention, else 0.
 */
export function auditExitCode(findings: readonly AuditFinding[]): number {
  if (findings.some((finding) => finding.kind === 'permission')) return ExitCode.noPermission;
  const unreadable = findings.find((finding) => finding.kind === 'unreadable' || finding.kind === 'data');
  if (unreadable !== undefined) return unreadable.exitCode ?? ExitCode.failure;
  if (findings.some((finding) => finding.kind === 'age')) return ExitCode.failure;
  return ExitCode.ok;
}
