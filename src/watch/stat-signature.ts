import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf } from '../lib/errno.js';

/** Whether a watched path is one file or a folder of files. */
export type PathKind = 'file' | 'folder';

/**
 * A cheap fingerprint of what is on disk at `path`: inode, size, times, mode
 * and owner — for a folder, of each visible entry too, following links (a
 * Kubernetes `..data` swap changes the keys' targets). Any write, rename,
 * chmod or deletion changes it; reading it costs stats, not reads.
 */
export async function statSignature(path: string, kind: PathKind): Promise<string> {
  const own = await describe(path);
  if (kind === 'file') return own;
  let names: string[];
  try {
    names = (await readdir(path)).filter((name) => !name.startsWith('.')).sort();
  } catch (error) {
    return `${own}|${errnoOf(error) ?? 'error'}`;
  }
  const entries = await Promise.all(names.map(async (name) => `${name}=${await describe(join(path, name))}`));
  return [own, ...entries].join('|');
}

async function describe(path: string): Promise<string> {
  try {
    const stats = await stat(path);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.mode}:${stats.uid}`;
  } catch (error) {
    return errnoOf(error) ?? 'error';
  }
}
