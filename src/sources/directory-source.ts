import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { DirectorySourceConfig } from '../config/config.js';
import { NotFoundError, PermissionError, SecretDataError, SourceUnavailableError } from '../errors.js';
import { SecretValue } from '../secret-value.js';
import { checkSecretFolder } from '../permissions/check-folder.js';
import type { WalkCache } from '../permissions/trusted-path.js';
import { readSecretFile, type SecretFile } from './read-secret-file.js';
import { digestEntries } from './content-digest.js';
import { fileAccessError } from '../permissions/file-access-error.js';
import { settleBounded } from './settle-bounded.js';
import { watchFileSource } from './watch-file-source.js';
import type { SecretSource, Snapshot, SourceContext } from './source.js';
import { stripOneNewline } from '../lib/strip-newline.js';
import { errnoOf } from '../lib/errno.js';

/**
 * A folder with one secret per file: a Kubernetes Secret mount (keys are
 * links through `..data`), Docker's /run/secrets, systemd's
 * $CREDENTIALS_DIRECTORY. Hidden entries (`..data`, `.git`) are not keys;
 * subfolders are skipped; one trailing newline is not part of a value.
 */
export function createDirectorySource(context: SourceContext<DirectorySourceConfig>): SecretSource {
  const { config, log } = context;
  const what = `source "${config.name}"`;

  return {
    name: config.name,
    kind: config.type,
    async read(): Promise<Snapshot> {
      const root = await resolveRoot(config.path, what);
      // One walk per folder per read, however many keys share it.
      const cache: WalkCache = new Map();
      await checkSecretFolder(root, { policy: config.permissions, log, what, cache });
      const names = (await listEntries(config.path, what)).filter((name) => !name.startsWith('.')).sort();
      const targets = await settleBounded(names, (name) => resolveKey(join(config.path, name), root, name, what));
      for (const folder of new Set(targets.filter((target) => target !== undefined).map((target) => dirname(target)))) {
        if (folder !== root) await checkSecretFolder(folder, { policy: config.permissions, log, what, cache });
      }
      const keys = names.filter((_, index) => targets[index] !== undefined);
      // Bounded: 20,000 keys opened at once ran out of file descriptors (EMFILE) and memory.
      const files = await settleBounded(keys, (name) =>
        readSecretFile(join(config.path, name), { policy: config.permissions, log, what: `${what}, key ${name}`, cache }).catch((error: unknown) => {
          // Listed a moment ago: a key gone now is a swap under way (Kubernetes' ..data), worth reading again.
          if (error instanceof NotFoundError) throw new SourceUnavailableError(`${what}: key ${name} vanished while reading`, { cause: error });
          throw error;
        }),
      );
      const entries = new Map(keys.map((name, index) => [name, new SecretValue(stripOneNewline((files[index] as SecretFile).value.reveal()))] as const));
      const updatedAt = new Date(Math.max(0, ...files.map((file) => file.stats.mtimeMs)));
      return { entries, version: digestEntries(entries), updatedAt };
    },
    ...watchFileSource({ path: config.path, kind: 'folder', refreshMs: config.refreshMs, clock: context.clock, log }),
  };
}

async function resolveRoot(path: string, what: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    throw await fileAccessError(error, { what, path, kind: 'folder' });
  }
}

async function listEntries(path: string, what: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    throw await fileAccessError(error, { what, path, kind: 'folder' });
  }
}

/** The real path of a key's file; undefined for a subfolder. Refuses a link that leads outside the source folder. */
async function resolveKey(path: string, root: string, name: string, what: string): Promise<string | undefined> {
  let target: string;
  try {
    target = await realpath(path);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ELOOP') throw new SecretDataError(`${what}: key ${name} (${path}) is a symlink loop`, { hint: 'fix or remove the link' });
    throw new SourceUnavailableError(`${what}: key ${name} (${path}) vanished while reading (${code ?? 'error'})`, { cause: error });
  }
  if (target !== root && !target.startsWith(root + sep)) {
    throw new PermissionError(`${what}: key ${name} is a link to ${target}, outside the source folder ${root}`, {
      hint: `remove the link '${path}', or point the source at the folder that holds the secret`,
    });
  }
  return (await stat(target)).isDirectory() ? undefined : target;
}
