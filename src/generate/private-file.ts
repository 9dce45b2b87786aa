import { open, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PermissionError, SecretvisorError, SourceUnavailableError } from '../errors.js';
import { currentUid, formatMode } from '../permissions/inspect-mode.js';
import { errnoOf } from '../lib/errno.js';

/** Who a written file belongs to. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Writes `content` to a new hidden file in `folder` — created exclusively,
 * mode 0600 whatever the umask, owned by `owner`, flushed to disk — and
 * returns its path, for the caller to rename or link into place. Nothing is
 * left behind when it fails.
 */
export async function writePrivateFile(folder: string, content: Buffer, owner: Owner | undefined, what: string): Promise<string> {
  const path = join(folder, `.secretvisor-${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    if (owner !== undefined && (owner.uid !== currentUid() || owner.gid !== (process.getgid?.() ?? 0))) {
      await handle.chown(owner.uid, owner.gid).catch((error: unknown) => {
        throw new PermissionError(`${what}: cannot keep owner uid ${owner.uid}, gid ${owner.gid} for the rewritten file as uid ${currentUid()}; nothing was changed`, {
          hint: `run secretvisor generate as uid ${owner.uid} or as root`,
          cause: error,
        });
      });
    }
    await handle.writeFile(content);
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
  return path;
}

/**
 * The owner of a file secretvisor creates in `folder`: run as root (an
 * install script), the folder's owner, so the service that owns the folder
 * can read it; otherwise the user running it.
 */
export async function ownerForNewFile(folder: string): Promise<Owner | undefined> {
  if (currentUid() !== 0) return undefined;
  const stats = await stat(folder);
  return { uid: stats.uid, gid: stats.gid };
}

/** Flushes a folder's entries (a rename or link in it) to disk. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The error for a failed write of generated keys into `folder`, by its errno; the source is as it was. */
export async function generateWriteError(error: unknown, what: string, folder: string, keys: readonly string[], created: readonly string[] = []): Promise<SecretvisorError> {
  if (error instanceof SecretvisorError) return error;
  const outcome = created.length === 0 ? 'nothing was changed' : `only ${created.join(', ')} ${created.length === 1 ? 'was' : 'were'} created`;
  const code = errnoOf(error);
  const which = `cannot create ${keys.join(', ')} in folder ${folder}`;
  const remove = `or remove generate: from ${what} and create the keys yourself`;
  if (code === 'EROFS') {
    return new PermissionError(`${what}: ${which}: it is on a read-only file system (a Kubernetes Secret, a mounted credential); ${outcome}`, {
      hint: `generate the keys where the source is written and mounted from, ${remove}`,
      cause: error,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    const stats = await stat(folder).catch(() => undefined);
    const found = stats === undefined ? '' : ` (owner uid ${stats.uid}, group gid ${stats.gid}, mode ${formatMode(stats.mode)})`;
    return new PermissionError(`${what}: ${which}: permission denied: the folder${found} does not let uid ${currentUid()}, that secretvisor runs as, write in it; ${outcome}`, {
      hint: `run secretvisor generate as the folder's owner, give uid ${currentUid()} write access (chmod u+w '${folder}' as its owner, or chown ${currentUid()} '${folder}'), ${remove}`,
      cause: error,
    });
  }
  return new SourceUnavailableError(`${what}: ${which} (${code ?? String(error)}); ${outcome}`, {
    hint: 'check the file system the source is on (space, quota), then run again',
    cause: error,
  });
}
