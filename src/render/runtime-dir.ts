import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** Creates this run's private folder (0700), named after our pid so leftovers can be told apart. */
export async function createRuntimeDir(base: string): Promise<string> {
  const dir = await mkdtemp(join(base, `${RUNTIME_DIR_PREFIX}${process.pid}.`));
  await chmod(dir, 0o700);
  return dir;
}

/** Removes a runtime folder and everything in it; a missing folder is fine. */
export async function removeRuntimeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
