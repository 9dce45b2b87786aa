import { chown, link, lstat, mkdir, realpath, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DirectorySourceConfig, GeneratedKeySpec } from '../config/config.js';
import type { Logger } from '../log.js';
import { checkSecretFolder } from '../permissions/check-folder.js';
import { generateWriteError, ownerForNewFile, syncFolder, writePrivateFile } from './private-file.js';
import { randomValue } from './random-value.js';
import { errnoOf } from '../lib/errno.js';

/**
 * Creates the source's missing `generate:` keys as files of its folder
 * (creating the folder, 0700, when there is none): each written whole to a
 * hidden temporary file, mode 0600, then hard-linked to its name — link()
 * never replaces, so of two generates at once only one creates a key, and
 * an existing key is never touched. Resolves with the names created.
 */
export async function generateDirectoryKeys(config: DirectorySourceConfig, log: Logger): Promise<string[]> {
  const what = `source "${config.name}"`;
  const wanted = [...config.generate.keys()];
  const options = { policy: config.permissions, log, what };
  if (!(await exists(config.path))) {
    await checkSecretFolder(dirname(config.path), options);
    const owner = await ownerForNewFile(dirname(config.path));
    try {
      await mkdir(config.path, { mode: 0o700 });
      if (owner !== undefined) await chown(config.path, owner.uid, owner.gid);
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') throw await generateWriteError(error, what, dirname(config.path), wanted);
    }
  }
  await checkSecretFolder(config.path, options);
  const folder = await realpath(config.path);
  const owner = await ownerForNewFile(folder);
  const missing: string[] = [];
  for (const key of config.generate.keys()) if (!(await exists(join(folder, key)))) missing.push(key);
  const created: string[] = [];
  try {
    for (const key of missing) {
      const spec = config.generate.get(key) as GeneratedKeySpec;
      const temp = await writePrivateFile(folder, Buffer.from(randomValue(spec).reveal(), 'utf8'), owner, what);
      try {
        await link(temp, join(folder, key));
        created.push(key);
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST') throw error;
      } finally {
        await unlink(temp);
      }
    }
    if (created.length > 0) await syncFolder(folder);
  } catch (error) {
    throw await generateWriteError(
      error,
      what,
      folder,
      missing.filter((key) => !created.includes(key)),
      created,
    );
  }
  return created;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return false;
    throw error;
  }
}
