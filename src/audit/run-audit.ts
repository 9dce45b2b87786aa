import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../clock.js';
import { isFileSourceKind, type Config, type SourceConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { findOldSecrets } from './age-findings.js';
import { auditFileSource, type SourceAudit } from './audit-files.js';
import { auditRemoteSource } from './audit-remote.js';
import type { AuditFinding, AuditReport } from './audit-report.js';
import { auditStrayEnvFiles } from './stray-env-files.js';
import { assertNever } from '../lib/assert-never.js';

/** Options of {@link runAudit}. */
export interface RunAuditOptions {
  readonly config: Config;
  /** secretvisor's own environment, for remote sources. */
  readonly env: NodeJS.ProcessEnv;
  /** The working folder: searched for stray `.env` files, like the config's folder. */
  readonly cwd: string;
  readonly log: Logger;
  readonly maxAgeMs: number;
  /** Reads time out on it, and ages are counted to its now. */
  readonly clock: Clock;
}

/**
 * Audits every source of the config — not only those of one service — then
 * the `.env`-style files lying in the config's folder and the working folder,
 * then the age of every secret. Nothing is thrown for what it finds: it all
 * ends up in the report.
 */
export async function runAudit(options: RunAuditOptions): Promise<AuditReport> {
  const { config } = options;
  const now = new Date(options.clock.now());
  const audits: SourceAudit[] = [];
  for (const source of config.sources.values()) audits.push(await auditSource(source, options));
  const items = audits.flatMap((audit) => audit.items);
  const local = items.filter((item) => isFileSourceKind(item.kind));
  const known = new Set(await Promise.all(local.map((item) => realpath(item.location).catch(() => item.location))));
  const folders = config.file === undefined ? [options.cwd] : [dirname(config.file), options.cwd];
  const stray = await auditStrayEnvFiles(folders, known);
  const findings = [...audits.flatMap((audit) => audit.findings), ...stray.findings, ...findOldSecrets(items, options.maxAgeMs, now)];
  return {
    config: config.file,
    maxAgeMs: options.maxAgeMs,
    now,
    sources: config.sources.size,
    items: [...items, ...stray.items],
    findings: withoutRepeats(findings),
  };
}

function auditSource(source: SourceConfig, options: RunAuditOptions): Promise<SourceAudit> {
  const read = { env: options.env, log: options.log, timeoutMs: options.config.startupTimeoutMs, clock: options.clock, zeroConfig: options.config.file === undefined };
  switch (source.type) {
    case 'dotenv':
    case 'directory':
      return auditFileSource(source, read);
    case 'vault':
    case 'aws-secrets-manager':
    case 'aws-ssm':
      return auditRemoteSource(source, read);
    default:
      return assertNever(source, 'unknown source kind');
  }
}

// A file two sources read (a dotenv file inside a directory source's folder) is reported once.
function withoutRepeats(findings: readonly AuditFinding[]): AuditFinding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${finding.kind}\0${finding.path ?? finding.source ?? ''}\0${finding.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
