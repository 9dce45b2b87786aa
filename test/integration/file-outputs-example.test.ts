import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, startCli, type RunningCli } from '../helpers/cli.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/api-keys-hot-reload/', import.meta.url));

let cli: RunningCli | undefined;

afterEach(async () => {
  if (cli !== undefined && cli.process.exitCode === null) {
    cli.kill('SIGKILL');
    // The service leads its own process group and would outlive secretvisor.
    for (const match of cli.stderr.matchAll(/started \S+ \(pid (\d+)\)/g)) killServer(Number(match[1]));
  }
  await cli?.exited().catch(() => undefined);
  cli = undefined;
});

function killServer(pid: number): void {
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server.mjs')) process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Replaces secrets/API_KEYS the way the example's README does: a hidden 0600 temp file, then a rename. */
function writeKeys(dir: string, keys: readonly string[]): void {
  const temp = join(dir, 'secrets', '.API_KEYS.next');
  writeFileSync(temp, keys.map((key) => `${key}\n`).join(''), { mode: 0o600 });
  renameSync(temp, join(dir, 'secrets', 'API_KEYS'));
}

async function status(port: number, key?: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });
  await response.arrayBuffer();
  return response.status;
}

/** Sends requests with `key` until `done()` holds; resolves with the statuses that were not 200. */
async function hammer(port: number, key: string, done: () => boolean): Promise<number[]> {
  const failures: number[] = [];
  while (!done()) {
    const code = await status(port, key);
    if (code !== 200) failures.push(code);
  }
  return failures;
}

const loads = (running: RunningCli): number => running.stdout.match(/loaded \d+ API key\(s\)/g)?.length ?? 0;

describe('examples/api-keys-hot-reload', () => {
  it('rotates a key with no restart and no failed request: add the new key, move clients, remove the old', async () => {
    const dir = tempDir('sv-example-');
    for (const name of ['server.mjs', 'secretvisor.yaml']) copyFileSync(join(EXAMPLE, name), join(dir, name));
    mkdirSync(join(dir, 'secrets'), { mode: 0o700 });
    const [oldKey, newKey] = [randomSecret('key-old'), randomSecret('key-new')];
    writeKeys(dir, [oldKey]);
    const base = join(dir, 'runtime');
    mkdirSync(base, { mode: 0o700 });

    cli = startCli(['run', '--', process.execPath, 'server.mjs'], { cwd: dir, env: baseEnv({ PORT: '0', XDG_RUNTIME_DIR: base }) });
    const running = cli;
    await running.waitForStdout('listening on');
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(running.stdout)?.[1]);
    expect(running.stdout).toContain('loaded 1 API key(s)');
    expect([await status(port, oldKey), await status(port, newKey), await status(port)]).toEqual([200, 401, 401]);

    // 1. Add the new key: both are valid; the old one never stops working meanwhile.
    writeKeys(dir, [oldKey, newKey]);
    expect(await hammer(port, oldKey, () => loads(running) >= 2)).toEqual([]);
    expect(running.stdout).toContain('loaded 2 API key(s)');
    expect([await status(port, oldKey), await status(port, newKey)]).toEqual([200, 200]);

    // 2. Clients move to the new key. 3. Remove the old one: the new one never stops working meanwhile.
    writeKeys(dir, [newKey]);
    expect(await hammer(port, newKey, () => loads(running) >= 3)).toEqual([]);
    expect([await status(port, oldKey), await status(port, newKey)]).toEqual([401, 200]);

    expect(running.stdout.match(/listening on/g), 'the service was never restarted').toHaveLength(1);
    expect(running.stderr.match(/sending SIGHUP/g)).toHaveLength(2);
    running.kill('SIGTERM');
    expect((await running.exited()).code).toBe(0);
  });
});
