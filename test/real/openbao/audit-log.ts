import { existsSync, readFileSync } from 'node:fs';
import { parseJsonLines } from '../../helpers/json-lines.js';

/** One response entry of OpenBao's file audit device (values of secrets are HMACs there, never clear text). */
export interface AuditEntry {
  readonly type: 'request' | 'response';
  /** When OpenBao handled it (RFC 3339). */
  readonly time: string;
  readonly error?: string;
  readonly request: {
    readonly path: string;
    readonly operation: string;
    readonly namespace?: { readonly path?: string };
    /** The request's parameters; the audit device HMACs string values (`sys/audit-hash` gives the same hash). */
    readonly data?: Readonly<Record<string, unknown>>;
  };
  readonly response?: { readonly data?: Record<string, unknown> };
}

/** What to count: a request path (exact, or a RegExp), its operation (`read`, `update`, …), and whether it failed. */
export interface AuditFilter {
  readonly path: string | RegExp;
  readonly operation?: string;
  readonly failed?: boolean;
}

/** The server's audit log: what OpenBao itself saw, for tests that count logins, renewals and reads. */
export class AuditLog {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  /** Every response entry so far (one per answered request). */
  responses(): AuditEntry[] {
    if (!existsSync(this.#file)) return [];
    return parseJsonLines<AuditEntry>(readFileSync(this.#file, 'utf8')).filter((entry) => entry.type === 'response');
  }

  /** How many answered requests match `filter`. */
  count(filter: AuditFilter): number {
    return this.responses().filter((entry) => matches(entry, filter)).length;
  }
}

function matches(entry: AuditEntry, filter: AuditFilter): boolean {
  const path = entry.request.path;
  const pathMatches = typeof filter.path === 'string' ? path === filter.path : filter.path.test(path);
  if (!pathMatches || (filter.operation !== undefined && entry.request.operation !== filter.operation)) return false;
  if (filter.failed === undefined) return true;
  return filter.failed === (entry.error !== undefined && entry.error !== '');
}
