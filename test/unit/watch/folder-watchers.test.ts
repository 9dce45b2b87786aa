import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchEntry, type EntryWatch } from '../../../src/watch/folder-watchers.js';
import { tempDir, writeSecretFile } from '../../helpers/tmp.js';

const EVENTS = { usePolling: false, intervalMs: 1_000 };
const open: EntryWatch[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((entry) => entry.close()));
});

/** Watches `path`, collecting the entries its events name. */
function subscribe(path: string): { seen: string[]; entry: EntryWatch } {
  const seen: string[] = [];
  const entry = watchEntry(path, EVENTS, { onEvent: (_event, changed) => seen.push(changed), onRaw: () => undefined, onError: () => undefined });
  open.push(entry);
  return { seen, entry };
}

describe('watchEntry: one watcher per folder, shared by the entries watched in it', () => {
  it('tells each entry only of its own changes, and keeps watching the others when one closes', async () => {
    const dir = tempDir();
    const [a, b, other] = ['a.env', 'b.env', 'other.log'].map((name) => writeSecretFile(join(dir, name), 'x\n')) as [string, string, string];
    const first = subscribe(a);
    const second = subscribe(b);
    await Promise.all([first.entry.ready, second.entry.ready]);

    writeSecretFile(other, 'y\n');
    writeSecretFile(a, 'y\n');
    await expect.poll(() => first.seen, { timeout: 10_000 }).toContain(a);
    writeSecretFile(b, 'y\n');
    await expect.poll(() => second.seen, { timeout: 10_000 }).toContain(b);
    expect(first.seen.every((path) => path === a)).toBe(true);
    expect(second.seen.every((path) => path === b)).toBe(true);

    await first.entry.close();
    // chokidar drops a second change of one path within 50 ms (chokidar#1455; the file watcher's settle check
    // covers that in production): write again at each look, 100 ms apart, until the still-open entry hears one.
    let rewrites = 0;
    const heard = (): number => {
      if (second.seen.length <= 1) writeSecretFile(b, `z${rewrites++}\n`);
      return second.seen.length;
    };
    await expect.poll(heard, { timeout: 10_000, interval: 100 }).toBeGreaterThan(1);
  });

  it('opens a fresh watcher for a folder whose last entry closed', async () => {
    const dir = tempDir();
    const path = writeSecretFile(join(dir, 'app.env'), 'x\n');
    const gone = subscribe(path);
    await gone.entry.ready;
    await gone.entry.close();

    const again = subscribe(path);
    await again.entry.ready;
    writeSecretFile(path, 'y\n');
    await expect.poll(() => again.seen).toContain(path);
    expect(gone.seen).toEqual([]);
  });
});
