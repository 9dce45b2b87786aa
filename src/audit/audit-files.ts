import { readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { DirectorySourceConfig, DotenvSourceConfig } from '../config/config.js';
import { ExitCode } from '../errors.js';
import { inspectSecretFile, inspectSecretFolder, type PermissionFinding } from '../permissions/inspect-mode.js';
import type { AuditedItem, AuditFinding } from './audit-report.js';
import { readSource, type ReadOptions } from './read-source.js';

/** What auditing one source found: the secret-holding places, and what needs attention. */
export interface SourceAudit {
  readonly items: AuditedItem[];
  readonly findings: AuditFinding[];
}

/**
 * Audits a `dotenv` or `directory` source: the mode and owner of every
 * secret file (following symlinks, as the sources do) and of the folders
 * holding them, by the same rules `run` and `check` enforce, and each file's
 * mtime as its age. Only when all of that is sound is the source read once,
 * as `check` reads it, for data that `check` would refuse (exit 65).
 */
export async function auditFileSource(config: DotenvSourceConfig | DirectorySourceConfig, options: ReadOptions): Promise<SourceAudit> {
  const audit: SourceAudit = { items: [], findings: [] };
  if (config.type === 'dotenv') await auditDotenv(config, audit);
  else await auditDirectory(config, audit);
  // A read would only repeat a permission or missing-file finding as its error.
  if (audit.findings.length > 0) return audit;
  const verdict = await readSource(config, options);
  if ('finding' in verdict) audit.findings.push(verdict.finding);
  return audit;
}

async function auditDotenv(config: DotenvSourceConfig, audit: SourceAudit): Promise<void> {
  const stats = await stat(config.path).catch(() => undefined);
  if (stats === undefined) {
    audit.findings.push(unreachable(config.path, config.name, `${config.path} is missing or cannot be reached`));
    return;
  }
  auditFile(config.path, stats, config, audit);
  await auditFolder(dirname(config.path), config.name, audit);
}

async function auditDirectory(config: DirectorySourceConfig, audit: SourceAudit): Promise<void> {
  const root = await realpath(config.path).catch(() => undefined);
  const names = root === undefined ? undefined : await readdir(config.path).catch(() => undefined);
  if (root === undefined || names === undefined) {
    audit.findings.push(unreachable(config.path, config.name, `folder ${config.path} is missing or cannot be listed`));
    return;
  }
  await auditFolder(root, config.name, audit);
  const folders = new Set([root]);
  for (const name of names.filter((entry) => !entry.startsWith('.')).sort()) {
    const path = join(config.path, name);
    const target = await realpath(path).catch(() => undefined);
    if (target === undefined) {
      audit.findings.push(unreachable(path, config.name, `key ${name} (${path}) is a broken link`));
      continue;
    }
    if (target !== root && !target.startsWith(root + sep)) {
      audit.findings.push({
        kind: 'permission',
        source: config.name,
        path,
        problem: `key ${name} is a link to ${target}, outside the source folder ${root}`,
        fix: `remove the link '${path}', or point the source at the folder that holds the secret`,
      });
      continue;
    }
    const stats = await stat(target).catch(() => undefined);
    if (stats === undefined || stats.isDirectory()) continue;
    if (!folders.has(dirname(target))) {
      folders.add(dirname(target));
      await auditFolder(dirname(target), config.name, audit);
    }
    auditFile(path, stats, config, audit);
  }
}

/** Checks one secret file found outside the config (a stray `.env`), by the same rules. */
export function auditLooseFile(path: string, stats: Stats): SourceAudit {
  const audit: SourceAudit = { items: [{ source: undefined, kind: 'stray', location: path, updatedAt: stats.mtime }], findings: [] };
  audit.findings.push(...inspectSecretFile(path, stats).map((finding) => fromPermission(finding, undefined)));
  return audit;
}

function auditFile(path: string, stats: Stats, config: DotenvSourceConfig | DirectorySourceConfig, audit: SourceAudit): void {
  audit.items.push({ source: config.name, kind: config.type, location: path, updatedAt: stats.mtime });
  audit.findings.push(...inspectSecretFile(path, stats).map((finding) => fromPermission(finding, config.name)));
}

async function auditFolder(path: string, source: string, audit: SourceAudit): Promise<void> {
  const stats = await stat(path).catch(() => undefined);
  if (stats !== undefined) audit.findings.push(...inspectSecretFolder(path, stats).map((finding) => fromPermission(finding, source)));
}

function unreachable(path: string, source: string, problem: string): AuditFinding {
  return {
    kind: 'unreadable',
    source,
    path,
    problem,
    fix: 'create it, fix the path in the config, or mount the volume or credentials that hold it',
    exitCode: ExitCode.unavailable,
  };
}

/** A permission finding of `check` as an audit finding. */
export function fromPermission(finding: PermissionFinding, source: string | undefined): AuditFinding {
  return { kind: 'permission', source, path: finding.path, problem: finding.problem, fix: finding.fix };
}
