import { chmod, lchown, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { RenderedFile } from './build-plan.js';
import { errnoOf } from '../lib/errno.js';

/** Who owns written files, when secretvisor runs as root for another user. */
export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Writes each file output into `dir` atomically: a temp file is created
 * (O_EXCL, no link followed) with the final mode and owner before any byte is
 * written, then filled, fsynced and renamed over the old one — a reader sees
 * the old file or the new one, never a part. Folders on the way are made
 * 0700. A symlink, or an entry of the wrong kind, where a file output or
 * one of its folders goes is refused (ConfigError, exit 78): nothing is
 * written through a link.
 */
export async function writeFileOutputs(dir: string, files: readonly RenderedFile[], owner?: FileOwner): Promise<void> {
  const touched = new Set<string>();
  for (const file of files) {
    const target = join(dir, file.path);
    await makeParents(dir, dirname(target), owner);
    await validateTarget(target, file.path);
    await writeAtomically(target, file, owner);
    touched.add(dirname(target));
  }
  // The rename is durable only once its folder is synced.
  for (const folder of touched) await syncFolder(folder);
}

async function makeParents(root: string, folder: string, owner: FileOwner | undefined): Promise<void> {
  let current = root;
  for (const part of relative(root, folder)
    .split(sep)
    .filter((p) => p !== '')) {
    current = join(current, part);
    const shown = relative(root, current);
    const stats = await lstat(current).catch(ignoreMissing);
    if (stats === undefined) {
      await mkdir(current, { mode: 0o700 });
      await chmod(current, 0o700);
      if (owner !== undefined) await lchown(current, owner.uid, owner.gid);
    } else if (stats.isSymbolicLink()) {
      throw refusal(`folder ${shown} of a file output is a symlink`);
    } else if (!stats.isDirectory()) {
      throw refusal(`${shown} is in the way of a file output: it should be a folder`);
    }
  }
}

async function validateTarget(target: string, shown: string): Promise<void> {
  const stats = await lstat(target).catch(ignoreMissing);
  if (stats?.isSymbolicLink() === true) throw refusal(`file output ${shown} is a symlink`);
  if (stats?.isDirectory() === true) throw refusal(`file output ${shown} is a folder`);
}

async function writeAtomically(target: string, file: RenderedFile, owner: FileOwner | undefined): Promise<void> {
  // Hidden, so a child that scans the folder skips it.
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, file.mode);
  try {
    // The umask may have taken bits away: set the mode exactly, before any content.
    await handle.chmod(file.mode);
    if (owner !== undefined) await handle.chown(owner.uid, owner.gid);
    await handle.writeFile(file.content.reveal());
    await handle.sync();
    await handle.close();
    await rename(temp, target);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ignoreMissing(error: unknown): undefined {
  if (errnoOf(error) === 'ENOENT') return undefined;
  throw error;
}

function refusal(what: string): ConfigError {
  return new ConfigError(`${what} inside the output folder; refusing to write through it`, {
    hint: 'remove it: secretvisor owns the files and folders named under files:',
  });
}
