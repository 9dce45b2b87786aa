import { lstat, open, readdir, rm, rmdir, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { errnoOf } from '../lib/errno.js';

/**
 * Removes a folder and everything in it; a missing one is fine. As root it
 * never follows a link another user could swap in: each folder is first
 * taken over (owner root, mode 0700, through a handle opened without
 * following links), so nobody else can change it while it is emptied.
 */
export async function removeTree(path: string, options: { readonly euid?: number } = {}): Promise<void> {
  if ((options.euid ?? process.geteuid?.() ?? 0) !== 0) {
    // Not root: only our own 0700 folder can be there, and no one else can write in it.
    await rm(path, { recursive: true, force: true });
    return;
  }
  try {
    await removeLocked(path);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw error;
  }
}

async function removeLocked(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = errnoOf(error);
    // A link or a file where a folder was: remove the entry itself, never its target.
    if (code === 'ELOOP' || code === 'ENOTDIR') return unlink(path);
    throw error;
  }
  try {
    await handle.chown(0, 0);
    await handle.chmod(0o700);
    const [opened, named] = await Promise.all([handle.stat(), lstat(path)]);
    if (opened.ino !== named.ino || opened.dev !== named.dev) {
      throw new Error(`${path} was replaced while it was being removed; left in place`);
    }
  } finally {
    await handle.close();
  }
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await removeLocked(child);
    else await unlink(child);
  }
  await rmdir(path);
}
