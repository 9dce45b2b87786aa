import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { baseEnv, CLI, RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';

// Issue #13 item 5: bounded under hostile sizes. A directory source with
// 3,000 keys under `ulimit -n 256` opened every key at once: EMFILE, taken
// for "not reachable yet" until exit 69. Now it opens a bounded number at a
// time and starts.

describe('a directory source with 3,000 keys under ulimit -n 256', () => {
  it('reads every key, a bounded number at a time: check exits 0', async () => {
    const dir = tempDir('sv-many-');
    const keys = join(dir, 'keys');
    mkdirSync(keys, { mode: 0o700 });
    const marker = randomSecret('key');
    for (let index = 0; index < 3000; index++) writeSecretFile(join(keys, `KEY_${index}`), `${marker}-${index}`);
    const config = join(dir, 'secretvisor.yaml');
    writeFileSync(config, 'version: 1\nsources:\n  many: { type: directory, path: keys }\nstartup:\n  timeout: 5s\n');
    const cli = new RunningCli(
      spawn('sh', ['-c', 'ulimit -n 256 && exec "$0" "$@"', process.execPath, CLI, 'check', '-c', config], {
        cwd: dir,
        env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const timer = setTimeout(() => cli.kill('SIGKILL'), 60_000);
    const result = await cli.exited().finally(() => clearTimeout(timer));
    expect(result.code, logText(result.stderr)).toBe(0);
    expect(result.stdout).toContain('3000 secrets');
  }, 90_000);
});
