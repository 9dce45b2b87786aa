import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NotFoundError, PermissionError, SourceUnavailableError, type SecretvisorError } from '../errors.js';
import { currentUid, formatMode } from './inspect-mode.js';
import { errnoOf } from '../lib/errno.js';

/** What was being opened, for {@link fileAccessError}. */
export interface FileAccessSite {
  /** `source "app"`, `source "creds", key token`. */
  readonly what: string;
  readonly path: string;
  readonly kind: 'file' | 'folder';
}

/**
 * The error for a secret file or folder that could not be opened, by its
 * errno: ENOENT or ENOTDIR is a NotFoundError (66) naming the path; EACCES or
 * EPERM a PermissionError (77) naming the file or folder on the way that
 * refuses secretvisor's user, its owner and mode, and the fix; anything else
 * (EIO, EMFILE, a stale NFS handle) a SourceUnavailableError, retried.
 */
export async function fileAccessError(error: unknown, site: FileAccessSite): Promise<SecretvisorError> {
  const code = errnoOf(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new NotFoundError(`${site.what}: ${site.kind} ${site.path} does not exist (${code})`, {
      hint: `check the path in the config${site.kind === 'folder' ? ', or that the volume or credentials are mounted' : ''}`,
      cause: error,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    const refusal = await describeRefusal(site);
    return new PermissionError(refusal.message, { hint: refusal.hint, cause: error });
  }
  return new SourceUnavailableError(`${site.what}: cannot open ${site.kind} ${site.path} (${code ?? 'error'})`, {
    hint: 'check the file system the secret is on',
    cause: error,
  });
}

/** The message and fix for EACCES: the first folder on the path secretvisor may not enter, or the target itself. */
async function describeRefusal(site: FileAccessSite): Promise<{ message: string; hint: string }> {
  const uid = currentUid();
  const gid = process.getgid?.() ?? 0;
  const target = resolve(site.path);
  const folders: string[] = [];
  for (let folder = dirname(target); ; folder = dirname(folder)) {
    folders.unshift(folder);
    if (dirname(folder) === folder) break;
  }
  const checks = [
    ...folders.map((folder) => ({ path: folder, kind: 'folder', mode: constants.X_OK, need: 'enter' })),
    { path: target, kind: site.kind, mode: site.kind === 'folder' ? constants.R_OK | constants.X_OK : constants.R_OK, need: 'read' },
  ];
  for (const check of checks) {
    if (await allowed(check.path, check.mode)) continue;
    const stats = await stat(check.path).catch(() => undefined);
    const found = stats === undefined ? '' : ` (owner uid ${stats.uid}, group gid ${stats.gid}, mode ${formatMode(stats.mode)})`;
    const owner = stats === undefined ? '' : `run secretvisor as uid ${stats.uid} (its owner), or `;
    return {
      message: `${site.what}: cannot read ${site.path}: permission denied: ${check.kind} ${check.path}${found} does not let uid ${uid} (gid ${gid}), that secretvisor runs as, ${check.need} it`,
      hint: `${owner}give uid ${uid} access: chown ${uid} '${check.path}' (in a container, match --user to the owner of the mounted secrets)`,
    };
  }
  return {
    message: `${site.what}: cannot read ${site.path}: permission denied for uid ${uid} (gid ${gid}), that secretvisor runs as (a security module such as SELinux or AppArmor may refuse it)`,
    hint: `check the labels or profile that confine secretvisor, or run it as the owner of ${site.path}`,
  };
}

async function allowed(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}
