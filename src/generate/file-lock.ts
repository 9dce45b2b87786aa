import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sleepOn, type Clock } from '../clock.js';
import { SourceUnavailableError } from '../errors.js';
import { errnoOf } from '../lib/errno.js';

/** How long a second generate waits for the first: writing a few keys takes milliseconds. */
const WAIT_MS = 15_000;
const POLL_MS = 20;

/** Which lock {@link withFileLock} takes. */
export interface FileLockOptions {
  readonly lockPath: string;
  /** `source "env"`, for the message when the wait runs out. */
  readonly what: string;
  /** The wait for another holder runs on it. */
  readonly clock: Clock;
}

/**
 * Runs `work` holding a lock file (`lockPath`, created whole with link(), so
 * it always names its holder as "host pid"). A second process waits for it;
 * a lock left by a process of this host that no longer runs is taken over.
 * `work` must re-read what it changes: the first holder may have done it.
 */
export async function withFileLock<T>(options: FileLockOptions, work: () => Promise<T>): Promise<T> {
  await acquire(options);
  try {
    return await work();
  } finally {
    await unlink(options.lockPath).catch(() => undefined);
  }
}

async function acquire({ lockPath, what, clock }: FileLockOptions): Promise<void> {
  const mine = `${hostname()} ${process.pid}\n`;
  const staging = `${lockPath}.${randomBytes(6).toString('hex')}`;
  const handle = await open(staging, 'wx', 0o600);
  try {
    await handle.writeFile(mine);
  } finally {
    await handle.close();
  }
  const deadline = clock.now() + WAIT_MS;
  try {
    for (;;) {
      try {
        await link(staging, lockPath);
        return;
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST') throw error;
      }
      const holder = await readFile(lockPath, 'utf8').catch(() => undefined);
      if (holder !== undefined && isStale(holder)) {
        await takeOverStale(lockPath, holder);
        continue;
      }
      if (clock.now() > deadline) {
        throw new SourceUnavailableError(`${what}: another process (${holder?.trim() ?? 'unknown'}) has held ${lockPath} for ${WAIT_MS / 1000} s while generating keys`, {
          hint: `if no secretvisor generate or run is working on this source, remove '${lockPath}'`,
        });
      }
      await sleepOn(clock, POLL_MS);
    }
  } finally {
    await unlink(staging).catch(() => undefined);
  }
}

/** A lock of this host whose process is gone; one of another host (a shared volume) is never judged. */
function isStale(holder: string): boolean {
  const [host, pidText] = holder.trim().split(' ');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return errnoOf(error) === 'ESRCH';
  }
}

// Moved aside before it is removed, so that of two waiters taking over the
// same stale lock, neither deletes the fresh lock the other made meanwhile.
async function takeOverStale(lockPath: string, holder: string): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== holder) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}
