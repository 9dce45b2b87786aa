import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { watchPaths, type PathWatch } from '../../../src/watch/file-watcher.js';
import { captureLog } from '../../helpers/log-capture.js';
import { tempDir, writeSecretFile } from '../../helpers/tmp.js';

const HOUR_MS = 3_600_000;

let watching: PathWatch | undefined;
afterEach(async () => {
  await watching?.close();
  watching = undefined;
});

interface Watched {
  /** Each reason the watcher gave, with when it came. */
  readonly reasons: { reason: string; at: number }[];
  /** The messages the watcher logged so far (trace included). */
  logged(): string[];
  /** Waits for the next reason. */
  next(): Promise<string>;
}

/** Watches `path` with no periodic check in reach. */
async function watchFile(path: string): Promise<Watched> {
  const reasons: { reason: string; at: number }[] = [];
  const capture = captureLog();
  let wake: (() => void) | undefined;
  watching = watchPaths({
    paths: [path],
    kind: 'file',
    refreshMs: HOUR_MS,
    log: capture.log,
    clock: systemClock,
    onChange: (reason) => {
      reasons.push({ reason, at: performance.now() });
      wake?.();
    },
  });
  await watching.ready;
  const next = async (): Promise<string> => {
    const seen = reasons.length;
    while (reasons.length === seen) await new Promise<void>((resolve) => (wake = resolve));
    return reasons[seen]?.reason as string;
  };
  return { reasons, logged: capture.messages, next };
}

describe('watchPaths', () => {
  it('sees a file replaced twice within the throttle windows of chokidar, where chokidar may stay silent', async () => {
    const path = join(tempDir(), 'app.env');
    writeSecretFile(path, 'TOKEN=first\n');
    const { reasons, next } = await watchFile(path);

    rmSync(path);
    writeSecretFile(path, 'TOKEN=second\n');
    await next();
    rmSync(path);
    writeSecretFile(path, 'TOKEN=third\n');
    const replacedAgainAt = performance.now();

    // Whether chokidar's window had passed depends on the machine's load; the settle check reports it either way.
    await expect.poll(() => reasons.some(({ at, reason }) => at > replacedAgainAt && reason === 'settle check: changed on disk'), { timeout: 5_000 }).toBe(true);
  });

  it('checks the disk once after a burst: a change chokidar reported is confirmed, an unrelated file costs a stat, not a re-read', async () => {
    const dir = tempDir();
    const path = join(dir, 'app.env');
    writeSecretFile(path, 'TOKEN=first\n');
    const { reasons, logged, next } = await watchFile(path);

    writeSecretFile(path, 'TOKEN=second\n');
    expect(await next()).toMatch(/^change /);
    // The last look predates the write, so the check reports it once more; re-reading an unchanged source is cheap.
    expect(await next()).toBe('settle check: changed on disk');

    writeSecretFile(join(dir, 'other.log'), 'not a secret\n');
    await expect.poll(() => logged().includes('settle check: unchanged on disk'), { timeout: 5_000 }).toBe(true);
    expect(reasons).toHaveLength(2);
  });
});
