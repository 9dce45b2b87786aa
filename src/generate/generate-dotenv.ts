import { readFile, realpath, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../clock.js';
import type { DotenvSourceConfig } from '../config/config.js';
import { NotFoundError, SourceUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkSecretFolder } from '../permissions/check-folder.js';
import { parseDotenv } from '../sources/parse-dotenv.js';
import { readSecretFile } from '../sources/read-secret-file.js';
import { withFileLock } from './file-lock.js';
import { generateWriteError, ownerForNewFile, syncFolder, writePrivateFile } from './private-file.js';
import { randomValue } from './random-value.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Appends the source's missing `generate:` keys to its dotenv file (creating
 * the file when there is none): the file is rewritten whole through a
 * temporary file renamed over it, every byte already there kept, mode 0600,
 * its owner kept. A lock beside it makes a second generate wait, and the
 * file is read again under it, so a key is never written twice. When every
 * key is present nothing is written at all, so a read-only folder is fine.
 * Resolves with the names of the keys created.
 */
export async function generateDotenvKeys(config: DotenvSourceConfig, { log, clock }: { readonly log: Logger; readonly clock: Clock }): Promise<string[]> {
  const what = `source "${config.name}"`;
  const target = await realpath(config.path).catch(() => config.path);
  const folder = dirname(target);
  await checkSecretFolder(folder, { policy: config.permissions, log, what });
  // Locking writes in the folder: when every key is there (the usual start), nothing may be written, not even a lock.
  const present = await readKeys(config, log, what);
  const wanted = [...config.generate.keys()].filter((key) => present?.has(key) !== true);
  if (wanted.length === 0) return [];
  try {
    return await withFileLock({ lockPath: join(folder, `.${basename(target)}.secretvisor-lock`), what, clock }, async () => {
      const existing = await readExisting(config, target, log, what);
      const missing = [...config.generate].filter(([key]) => existing?.keys.has(key) !== true);
      if (missing.length === 0) return [];
      const raw = existing?.raw ?? Buffer.alloc(0);
      const text = raw.toString('latin1');
      const eol = /^[^\n]*\r\n/.test(text) ? '\r\n' : '\n';
      const separator = raw.length > 0 && !text.endsWith('\n') && !text.endsWith('\r') ? eol : '';
      const lines = missing.map(([key, spec]) => `${key}=${randomValue(spec).reveal()}${eol}`).join('');
      const owner = existing === undefined ? await ownerForNewFile(folder) : existing.owner;
      const temp = await writePrivateFile(folder, Buffer.concat([raw, Buffer.from(separator + lines, 'utf8')]), owner, what);
      await rename(temp, target);
      await syncFolder(folder);
      return missing.map(([key]) => key);
    });
  } catch (error) {
    throw await generateWriteError(error, what, folder, wanted);
  }
}

interface ExistingFile {
  readonly raw: Buffer;
  readonly keys: ReadonlySet<string>;
  readonly owner: { readonly uid: number; readonly gid: number };
}

/**
 * The keys the file holds now, read as `run` reads it (permissions per policy, strict parse); undefined when
 * there is none yet. Read without the lock: another generate may be replacing the file meanwhile, which is
 * why the rewrite reads it again under the lock.
 */
async function readKeys(config: DotenvSourceConfig, log: Logger, what: string): Promise<ReadonlySet<string> | undefined> {
  return (await readChecked(config, log, what))?.keys;
}

async function readChecked(config: DotenvSourceConfig, log: Logger, what: string) {
  let file;
  try {
    file = await readSecretFile(config.path, { policy: config.permissions, log, what });
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  return { file, keys: new Set(parseDotenv(file.value.reveal(), `${what} (${config.path})`).keys()) };
}

/** Under the lock: the file as `run` reads it and its exact bytes, which must be the same text; undefined when there is none yet. */
async function readExisting(config: DotenvSourceConfig, target: string, log: Logger, what: string): Promise<ExistingFile | undefined> {
  const checked = await readChecked(config, log, what);
  if (checked === undefined) return undefined;
  const { file, keys } = checked;
  const raw = await readFile(target);
  const stats = await stat(target);
  // The bytes rewritten must be the text just checked: another writer (an editor) may have changed it since.
  if (utf8.decode(raw) !== file.value.reveal() || stats.ino !== file.stats.ino) {
    throw new SourceUnavailableError(`${what}: ${config.path} changed while keys were being generated; nothing was changed`, { hint: 'run secretvisor generate again' });
  }
  return { raw, keys, owner: { uid: file.stats.uid, gid: file.stats.gid } };
}
