import { chmod, lchown, mkdtemp, realpath, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, ExitCode, PermissionError, SecretvisorError } from '../errors.js';
import { walkTrustedPath } from '../permissions/trusted-path.js';
import { removeTree } from './remove-tree.js';
import type { FileOwner } from './write-files.js';
import { errnoOf } from '../lib/errno.js';

/** Name prefix of runtime folders, so a later start can find leftovers of a killed run. */
export const RUNTIME_DIR_PREFIX = 'secretvisor.';

/**
 * Where runtime folders go: systemd's $RUNTIME_DIRECTORY (first entry), then
 * $XDG_RUNTIME_DIR, then the OS temp dir.
 */
export function runtimeBase(env: NodeJS.ProcessEnv): string {
  const systemd = env.RUNTIME_DIRECTORY?.split(':')[0];
  if (systemd !== undefined && systemd !== '') return systemd;
  if (env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== '') return env.XDG_RUNTIME_DIR;
  return tmpdir();
}

/**
 * Creates this run's private folder `secretvisor.<pid>.XXXXXX` in `base`:
 * mode 0700 whatever the umask, owned by `owner` when the child runs as
 * another user (who must be able to reach it through `base`). A base that
 * another user could tamper with is refused (exit 77).
 */
export async function createRuntimeDir(base: string, owner?: FileOwner): Promise<string> {
  await validateTrustedBase(base);
  if (owner !== undefined) await validateReachable(base, owner);
  let dir: string;
  try {
    dir = await mkdtemp(join(base, `${RUNTIME_DIR_PREFIX}${process.pid}.`));
  } catch (error) {
    const code = errnoOf(error) ?? 'error';
    throw new SecretvisorError(ExitCode.failure, `cannot create the runtime folder for file outputs in ${base} (${code})`, {
      hint: 'create that folder (writable by secretvisor), or point RUNTIME_DIRECTORY or XDG_RUNTIME_DIR at one that exists',
      cause: error,
    });
  }
  await chmod(dir, 0o700);
  if (owner !== undefined) await lchown(dir, owner.uid, owner.gid);
  return dir;
}

// Another user who can write to the base (0777 without the sticky bit) or to a
// folder above it can rename this run's folder away and put one of their own
// in its place, between mkdtemp and the child reading its files.
async function validateTrustedBase(base: string): Promise<void> {
  const { findings } = await walkTrustedPath(base, { includeLast: true });
  if (findings.length === 0) return;
  throw new PermissionError(`the runtime base for file outputs is not safe from other users: ${findings.map((f) => f.problem).join('; ')}`, {
    hint: `${findings.map((f) => f.fix).join(' && ')}, or chmod +t it, or point RUNTIME_DIRECTORY (systemd: RuntimeDirectory=), XDG_RUNTIME_DIR or TMPDIR at a private folder`,
  });
}

/** Removes a runtime folder and everything in it; a missing folder is fine. */
export async function removeRuntimeDir(dir: string): Promise<void> {
  await removeTree(dir);
}

// The child gets only its primary group (spawning drops supplementary groups),
// so owner, primary group and others' search bits decide.
async function validateReachable(base: string, owner: FileOwner): Promise<void> {
  if (owner.uid === 0) return;
  let folder = await realpath(base).catch(() => base);
  for (;;) {
    const stats = await stat(folder).catch(() => undefined);
    if (stats !== undefined) {
      const bit = stats.uid === owner.uid ? 0o100 : stats.gid === owner.gid ? 0o010 : 0o001;
      if ((stats.mode & bit) === 0) {
        const mode = `0${(stats.mode & 0o777).toString(8)}`;
        throw new ConfigError(
          `the child's user (uid ${owner.uid}, gid ${owner.gid}) cannot reach its file outputs: ${folder} (mode ${mode}, owner ${stats.uid}:${stats.gid}) does not let it through`,
          { hint: `point RUNTIME_DIRECTORY or XDG_RUNTIME_DIR at a folder that user can traverse (systemd: RuntimeDirectory=), or run chmod o+x ${folder}` },
        );
      }
    }
    const parent = dirname(folder);
    if (parent === folder) return;
    folder = parent;
  }
}
