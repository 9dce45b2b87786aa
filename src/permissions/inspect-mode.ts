import type { Stats } from 'node:fs';

/** Why a secret file or folder is unsafe, with the command that fixes it. */
export interface PermissionFinding {
  readonly path: string;
  readonly problem: string;
  /** The shell command an operator runs to fix it. */
  readonly fix: string;
  /** The mode the file should have, for `permissions: fix`; undefined when only chown helps, or `fix` may not touch it. */
  readonly safeMode: number | undefined;
  /** How `fix` applies `safeMode` without following a link; absent: the caller's `applyMode`. */
  readonly apply?: (mode: number) => Promise<void>;
}

const GROUP_OTHER_ANY = 0o077;
const GROUP_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/** The uid secretvisor runs as; secret files must be owned by it or by root. */
export function currentUid(): number {
  return process.getuid?.() ?? 0;
}

/** `0644` style text of a mode's permission bits. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

function describeOwner(stats: Stats): string {
  return `owner uid ${stats.uid}, group gid ${stats.gid}`;
}

/**
 * Checks a secret file's stats: no group/other access at all, owned by us or
 * root. `path` is the name shown; `realPath` the target, where the fix applies.
 */
export function inspectSecretFile(path: string, stats: Stats, uid = currentUid()): PermissionFinding[] {
  const findings: PermissionFinding[] = [];
  if ((stats.mode & GROUP_OTHER_ANY) !== 0) {
    const safeMode = stats.mode & 0o700 & ~0o111;
    findings.push({
      path,
      problem: `${path} has mode ${formatMode(stats.mode)} (${describeOwner(stats)}): group or others may access it`,
      fix: `chmod ${formatMode(safeMode === 0 ? 0o600 : safeMode)} '${path}'`,
      safeMode: safeMode === 0 ? 0o600 : safeMode,
    });
  }
  if (stats.uid !== uid && stats.uid !== 0) {
    findings.push({
      path,
      problem: `${path} is owned by uid ${stats.uid}, not by uid ${uid} that secretvisor runs as (mode ${formatMode(stats.mode)})`,
      fix: `chown ${uid} '${path}'`,
      safeMode: undefined,
    });
  }
  return findings;
}

/**
 * Checks a folder that holds secret files: group and others must not be able
 * to write to it. A sticky folder (like /tmp) is safe: others cannot rename
 * or delete files they do not own.
 */
export function inspectSecretFolder(path: string, stats: Stats): PermissionFinding[] {
  if ((stats.mode & GROUP_OTHER_WRITE) === 0 || (stats.mode & STICKY) !== 0) return [];
  const safeMode = stats.mode & 0o777 & ~GROUP_OTHER_WRITE;
  return [
    {
      path,
      problem: `folder ${path} has mode ${formatMode(stats.mode)} (${describeOwner(stats)}): group or others may replace the secrets in it`,
      fix: `chmod go-w '${path}'`,
      safeMode,
    },
  ];
}
