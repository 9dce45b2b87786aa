import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lchownSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomSecret } from '../../helpers/secrets.js';

/** The image's user (examples/container/Dockerfile: `USER node`). */
export const IMAGE_UID = 1000;

/** The values of one secrets folder laid out as examples/container/secrets/, every one a fresh random string. */
export interface SecretValues {
  readonly DB_USER: string;
  readonly DB_PASSWORD: string;
  readonly REDIS_URL: string;
  readonly LLM_API_KEY: string;
  readonly MAPS_API_KEY: string;
  readonly BANKING_API_TOKEN: string;
}

/** A host folder to mount at /run/secrets, as examples/container/README.md lays it out. */
export interface SecretsFolder {
  /** The folder to mount. */
  readonly path: string;
  readonly values: SecretValues;
  /** Gives DB_PASSWORD a new random value the way `how` says, and returns it. */
  rotate(how: RotationKind): string;
}

/** How an operator (or the kubelet) replaces a mounted secret file. */
export type RotationKind = 'in place' | 'rename' | '..data swap';

/** What the example app and the test fixture print for a value: the first 16 hex digits of its SHA-256. */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/**
 * Writes the example's secrets with fresh random values under `root`/secrets, owned by `uid` (folders 0700,
 * files 0400, as the README's `install`/`chmod` lines make them). With `kubernetesLayout`, the platform
 * folder is laid out as a Kubernetes Secret volume: the files live in a timestamped folder that the
 * `..data` symlink names, and each key is a symlink through `..data`.
 */
export function writeSecretsFolder(root: string, options: { readonly uid?: number; readonly kubernetesLayout?: boolean } = {}): SecretsFolder {
  const uid = options.uid ?? IMAGE_UID;
  const values: SecretValues = {
    DB_USER: randomSecret('db-user'),
    DB_PASSWORD: randomSecret('db-password'),
    REDIS_URL: `redis://${randomSecret('redis')}:6379`,
    LLM_API_KEY: randomSecret('llm-key'),
    MAPS_API_KEY: randomSecret('maps-key-long'),
    BANKING_API_TOKEN: randomSecret('banking-token-longer'),
  };
  const path = join(root, 'secrets');
  const folder = (dir: string): string => {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o700);
    chownSync(dir, uid, uid);
    return dir;
  };
  const file = (file: string, content: string): void => {
    writeFileSync(file, content, { mode: 0o400 });
    chmodSync(file, 0o400);
    chownSync(file, uid, uid);
  };
  folder(path);
  const platform = folder(join(path, 'platform'));
  const platformFiles = (dir: string, password: string): void => {
    file(join(dir, 'DB_USER'), values.DB_USER);
    file(join(dir, 'DB_PASSWORD'), password);
    file(join(dir, 'REDIS_URL'), values.REDIS_URL);
  };
  let generation = 0;
  if (options.kubernetesLayout === true) {
    platformFiles(folder(join(platform, '..2026_12_01_00_00_00.0')), values.DB_PASSWORD);
    link('..2026_12_01_00_00_00.0', join(platform, '..data'), uid);
    for (const key of ['DB_USER', 'DB_PASSWORD', 'REDIS_URL']) link(`..data/${key}`, join(platform, key), uid);
  } else {
    platformFiles(platform, values.DB_PASSWORD);
  }
  const worker = folder(join(path, 'worker'));
  file(join(worker, 'llm-api-key'), values.LLM_API_KEY);
  file(join(worker, 'maps-api-key'), values.MAPS_API_KEY);
  file(join(folder(join(path, 'pools')), 'finance.env'), `BANKING_API_TOKEN=${values.BANKING_API_TOKEN}\n`);

  return {
    path,
    values,
    rotate(how) {
      const password = randomSecret('db-password-rotated');
      generation++;
      if (how === 'in place') {
        writeFileSync(join(platform, 'DB_PASSWORD'), password);
      } else if (how === 'rename') {
        // Written next to the mounted folder (same file system), then renamed over the old file at once.
        const staged = join(root, `DB_PASSWORD.new-${generation}`);
        file(staged, password);
        renameSync(staged, join(platform, 'DB_PASSWORD'));
      } else {
        // What the kubelet does: a new timestamped folder, then `..data` swapped to it by one rename.
        const next = `..2026_12_01_00_00_0${generation}.0`;
        platformFiles(folder(join(platform, next)), password);
        link(next, join(platform, '..data_tmp'), uid);
        renameSync(join(platform, '..data_tmp'), join(platform, '..data'));
        rmSync(join(platform, generation === 1 ? '..2026_12_01_00_00_00.0' : `..2026_12_01_00_00_0${generation - 1}.0`), { recursive: true });
      }
      return password;
    },
  };
}

function link(target: string, path: string, uid: number): void {
  symlinkSync(target, path);
  lchownSync(path, uid, uid);
}
