import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, CLI, RunningCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';

// Issue #13 item 4: secretvisor's own core dump would hold every value it
// handles. Started with `ulimit -c unlimited`, it must have switched its
// core dumps off (RLIMIT_CORE 0:0, coredump_filter 0) before it read the
// first secret, and a SIGABRT must leave no core file behind. The host's
// core_pattern is global and is never changed: when it writes `core` into
// the crashing process's folder (the kernel's default), the test also
// aborts secretvisor and looks for the file; /proc is checked everywhere.

const IS_LINUX = process.platform === 'linux';
const CORE_PATTERN = IS_LINUX ? readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim() : '';
const CORE_IN_CWD = /^core(\.%p)?$/.test(CORE_PATTERN);
const leftovers: number[] = [];

// The orphaned child holds secretvisor's output pipes open: end it first, or the CLI's output never closes.
afterEach(async () => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function limitLine(pid: number): string {
  return (
    readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((line) => line.startsWith('Max core file size')) ?? ''
  );
}

describe.skipIf(!IS_LINUX)(IS_LINUX ? 'core dumps' : 'core dumps — skipped: Linux only', () => {
  it('are off before the first secret is read, even under ulimit -c unlimited, and a SIGABRT leaves no core', async () => {
    const dir = tempDir('sv-core-');
    const secret = randomSecret('core');
    writeSecretFile(join(dir, 'app.env'), `API_KEY=${secret}\n`);
    const config = join(dir, 'secretvisor.yaml');
    writeFileSync(config, 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\n');
    const records = join(dir, 'records.jsonl');
    const child = spawn('sh', ['-c', 'ulimit -c unlimited && exec "$0" "$@"', process.execPath, CLI, 'run', '-c', config, '--', process.execPath, FIXTURES.recordEnv], {
      cwd: dir,
      env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', RECORD_FILE: records, RECORD_KEYS: 'API_KEY' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const cli = new RunningCli(child);
    await cli.waitForReadyChildren(1);
    const childPid = Number(/^ready (\d+)$/m.exec(cli.stdout)?.[1]);
    leftovers.push(childPid);
    // The shell's own limit was raised: the 0 below is secretvisor's doing.
    expect(limitLine(cli.pid)).toMatch(/^Max core file size\s+0\s+0\s+bytes/);
    expect(readFileSync(`/proc/${cli.pid}/coredump_filter`, 'utf8').trim()).toBe('00000000');
    expect(readFileSync(records, 'utf8')).toContain(secret);
    if (CORE_IN_CWD) {
      const exit = once(child, 'exit');
      cli.kill('SIGABRT');
      const [, signal] = await exit;
      expect(signal).toBe('SIGABRT');
      expect(readdirSync(dir).filter((name) => name.startsWith('core'))).toEqual([]);
    }
  });
});
