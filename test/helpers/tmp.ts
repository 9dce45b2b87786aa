import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh private (0700) folder, removed after the current test. */
export function tempDir(prefix = 'sv-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o700);
  made.push(dir);
  return dir;
}

/** Writes `content` to `path` with `mode` (default 0600), whatever umask says. */
export function writeSecretFile(path: string, content: string, mode = 0o600): string {
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}
