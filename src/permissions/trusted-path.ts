import { lstat, open, readlink } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { join } from 'node:path';
import { currentUid, formatMode, inspectSecretFolder, type PermissionFinding } from './inspect-mode.js';

/** The folders found unsafe on the way to a path, and where the path really leads. */
export interface PathWalk {
  readonly findings: PermissionFinding[];
  /** The path with every link resolved, as far as it exists. */
  readonly realPath: string;
  /** Whether the last component (the secret file or folder itself) is a symlink. */
  readonly finalLinked: boolean;
}

/** Folders already checked during one read of a source, so 3,000 keys in one folder cost one walk. */
export type WalkCache = Map<string, PermissionFinding[]>;

// The kernel's own limit on links followed while resolving one path.
const MAX_LINKS = 40;

/**
 * Walks `path` as the kernel resolves it, link by link, and checks every
 * folder it passes through up to `/`, as OpenSSH's StrictModes does: each
 * must be owned by root or by the user secretvisor runs as, and not
 * writable by group or others unless sticky. Anyone else who can write to
 * one of them can swap what lies below for a link to another secret. With
 * `includeLast`, the last component is checked too when it is a folder.
 */
export async function walkTrustedPath(path: string, options: { readonly includeLast: boolean; readonly cache?: WalkCache }): Promise<PathWalk> {
  const uid = currentUid();
  const findings: PermissionFinding[] = [];
  const pending = path.split('/').filter((part) => part !== '' && part !== '.');
  let current = '/';
  let links = 0;
  let finalLinked = false;
  findings.push(...(await checkFolder('/', uid, options.cache)));
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      current = join(current, '..');
      continue;
    }
    const next = join(current, part);
    const stats = await lstat(next).catch(() => undefined);
    // A missing or unreadable entry ends the walk: the open that follows reports it with its own error.
    if (stats === undefined) return { findings, realPath: join(next, ...pending), finalLinked };
    if (stats.isSymbolicLink()) {
      links += 1;
      if (links > MAX_LINKS) break;
      if (pending.length === 0) finalLinked = true;
      const target = await readlink(next);
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      if (target.startsWith('/')) current = '/';
      continue;
    }
    if (stats.isDirectory() && (pending.length > 0 || options.includeLast)) {
      findings.push(...(await checkFolder(next, uid, options.cache, stats)));
    }
    current = next;
  }
  return { findings, realPath: current, finalLinked };
}

async function checkFolder(path: string, uid: number, cache: WalkCache | undefined, known?: Stats): Promise<PermissionFinding[]> {
  const cached = cache?.get(path);
  if (cached !== undefined) return cached;
  const stats = known ?? (await lstat(path));
  const findings = inspectTrustedFolder(path, stats, uid);
  cache?.set(path, findings);
  return findings;
}

/**
 * One folder on the way to a secret: owned by root or `uid`, and not
 * writable by group or others unless sticky. `permissions: fix` may only
 * take group/other write away from a folder `uid` owns, through a handle
 * opened without following links; an owner is never changed.
 */
export function inspectTrustedFolder(path: string, stats: Stats, uid = currentUid()): PermissionFinding[] {
  const findings: PermissionFinding[] = [];
  if (stats.uid !== 0 && stats.uid !== uid) {
    findings.push({
      path,
      problem: `folder ${path} on the way to a secret is owned by uid ${stats.uid} (mode ${formatMode(stats.mode)}), not by root or uid ${uid} that secretvisor runs as: that user can swap what is below it for a link to another secret`,
      fix: `chown ${uid === 0 ? 'root' : uid} '${path}' (or move the secrets to a folder owned by root or uid ${uid})`,
      safeMode: undefined,
    });
  }
  for (const finding of inspectSecretFolder(path, stats)) {
    const ours = stats.uid === uid;
    findings.push({
      ...finding,
      safeMode: ours ? finding.safeMode : undefined,
      ...(ours ? { apply: (mode: number) => chmodFolder(path, mode) } : {}),
    });
  }
  return findings;
}

// chmod(2) follows links: open the folder itself, refusing a link swapped in since the check, and change it through the handle.
async function chmodFolder(path: string, mode: number): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}
