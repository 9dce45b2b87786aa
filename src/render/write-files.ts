import { open, rename, mkdir, lstat, unlink, chown } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { RenderedFile } from './build-plan.js';

/** Who owns written files, when secretvisor runs as root for another user. */
export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Writes each file output into the runtime folder atomically: a temp file is
 * created with the final mode before any byte is written, filled, fsynced,
 * and renamed over the old one — a reader sees the old file or the new one,
 * never a part. Refuses symlinks inside the folder.
 */
export async function writeFileOutputs(runtimeDir: string, files: readonly RenderedFile[], owner?: FileOwner): Promise<void> {
  for (const file of files) {
    const target = join(runtimeDir, file.path);
    await makeParents(runtimeDir, dirname(target), owner);
    await refuseSymlink(target, file.path);
    await writeAtomically(target, file, owner);
  }
}

async function makeParents(root: string, folder: string, owner: FileOwner | undefined): Promise<void> {
  let current = root;
  for (const part of relative(root, folder).split(sep).filter((p) => p !== '')) {
    current = join(current, part);
    await refuseSymlink(current, relative(root, current));
    try {
      await mkdir(current, { mode: 0o700 });
      if (owner !== undefined) await chown(current, owner.uid, owner.gid);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

async function refuseSymlink(path: string, shown: string): Promise<void> {
  try {
    if ((await lstat(path)).isSymbolicLink()) {
      throw new ConfigError(`file output ${shown} is a symlink inside the runtime folder; refusing to write through it`, {
        hint: 'remove the link; secretvisor owns the runtime folder',
      });
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function writeAtomically(target: string, file: RenderedFile, owner: FileOwner | undefined): Promise<void> {
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, file.mode);
  try {
    await handle.chmod(file.mode);
    if (owner !== undefined) await handle.chown(owner.uid, owner.gid);
    await handle.writeFile(file.content.reveal());
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, target);
}
