import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, startCli, type RunningCli } from '../helpers/cli.js';
import { FIXTURES, makeProject, readRecords, waitForRecords } from '../helpers/project.js';
import { logEntries } from '../helpers/log-capture.js';
import { isAlive, waitForDeath } from '../helpers/processes.js';
import { randomSecret } from '../helpers/secrets.js';

// The child and secretvisor itself dying in bad ways. A child ignoring
// SIGTERM (killed with its group after stopTimeout) is proven in
// run-signals.test.ts; a crash loop's growing backoff in rotation-actions.test.ts.

const started: { cli: RunningCli; records: string }[] = [];

afterEach(async () => {
  for (const { cli, records } of started.splice(0)) {
    if (!cli.hasExited) cli.kill('SIGKILL');
    // A child outlives a SIGKILLed secretvisor and holds its output pipes open.
    for (const record of readRecords(records)) if (isAlive(record.pid) && ownsRecords(record.pid, records)) killGroup(record.pid);
    await cli.discard();
  }
});

function start(dir: string, args: readonly string[] = [], keys = 'TOKEN,EXIT_CODE'): { cli: RunningCli; records: string } {
  const records = join(dir, 'records.jsonl');
  const cli = startCli(['run', ...args, '--', process.execPath, FIXTURES.recordEnv], {
    cwd: dir,
    env: baseEnv({ RECORD_FILE: records, RECORD_KEYS: keys, XDG_RUNTIME_DIR: join(dir, 'runtime'), SECRETVISOR_LOG_FORMAT: 'json' }),
  });
  started.push({ cli, records });
  return { cli, records };
}

describe('a child crashing in a loop (onExit: restart)', () => {
  it('is replaced by exactly one child when the secret that crashed it is fixed during the backoff', async () => {
    const dir = makeProject({
      'secretvisor.yaml': 'version: 1\nsources:\n  app: { type: dotenv, path: app.env, refresh: 200ms }\nonExit: restart\nonChange: { debounce: 50ms, stopTimeout: 2s }\n',
      // record-env.mjs exits at once with EXIT_CODE: this secret set makes the child crash.
      'app.env': `TOKEN=${randomSecret('crashes')}\nEXIT_CODE=3\n`,
    });
    const { cli, records } = start(dir, ['--log-level', 'trace']);
    await cli.waitForStderr('restart 3 in a row');
    const crash = logEntries(cli.stderr).find((line) => String(line.msg).includes('restart 3 in a row')) as { time: string; delayMs: number };
    const fixed = randomSecret('fixed');
    writeFileSync(join(dir, 'app.env'), `TOKEN=${fixed}\n`);
    await waitForRecords(records, (lines) => lines.some((line) => line.values.TOKEN === fixed), 'a start with the fixed secret');
    // The restart the crash scheduled was due by now: secretvisor logs its periodic check every 200ms (trace).
    const due = Date.parse(crash.time) + crash.delayMs + 500;
    await cli.waitFor(() => logEntries(cli.stderr).some((line) => Date.parse(String(line.time)) > due), 'a log line after the crash restart was due');
    const good = readRecords(records).filter((line) => line.event === 'start' && line.values.TOKEN === fixed);
    expect(good).toHaveLength(1);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    for (const line of readRecords(records)) expect(isAlive(line.pid), `child ${line.pid}`).toBe(false);
  });

  it('stops at once on SIGTERM during the backoff, exiting with the last crash code', async () => {
    const dir = makeProject({
      'secretvisor.yaml': 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nonExit: restart\n',
      'app.env': `TOKEN=${randomSecret('crashes')}\nEXIT_CODE=5\n`,
    });
    const { cli } = start(dir);
    await cli.waitForStderr('restart 4 in a row');
    const stoppedAt = Date.now();
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(5);
    expect(Date.now() - stoppedAt).toBeLessThan(2_000);
  });
});

describe('secretvisor itself SIGKILLed (OOM killer, kill -9)', () => {
  it('the child gets stopSignal when secretvisor dies (parent-death signal); the next start removes the old runtime folder and starts its own child', async () => {
    const dir = makeProject({
      'secretvisor.yaml': 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nfiles:\n  - { path: token, template: "{{secret.TOKEN}}", env: TOKEN_FILE }\n',
      'app.env': `TOKEN=${randomSecret('token')}\n`,
      'runtime/.keep': '',
    });
    const first = start(dir, [], 'TOKEN_FILE');
    const [orphan] = await waitForRecords(first.records, (lines) => lines.length === 1, 'the first child');
    await first.cli.waitForStderr('watching sources for changes');
    const tokenFile = orphan?.values.TOKEN_FILE as string;
    first.cli.kill('SIGKILL');
    await once(first.cli.process, 'exit');

    // setpriv --pdeathsig: the kernel sends the child stopSignal (SIGTERM) when its parent dies; it exits 0 on it.
    // The ended orphan stays a zombie here (PID 1 does not reap): isAlive reads its /proc state.
    await waitForRecords(first.records, (lines) => lines.some((line) => line.event === 'stop' && line.signal === 'SIGTERM'), 'the orphan to get SIGTERM');
    expect(await waitForDeath(orphan?.pid as number)).toBe(true);
    expect(existsSync(tokenFile)).toBe(true);

    const second = start(dir, [], 'TOKEN_FILE');
    const lines = (await waitForRecords(second.records, (l) => l.filter((line) => line.event === 'start').length === 2, 'the second child')).filter((line) => line.event === 'start');
    await second.cli.waitForStderr('removed 1 runtime folder(s)');
    expect(existsSync(tokenFile)).toBe(false);
    expect(readdirSync(join(dir, 'runtime')).filter((name) => name.startsWith('secretvisor.'))).toEqual([lines[1]?.values.TOKEN_FILE?.split('/').at(-2)]);
    second.cli.kill('SIGTERM');
    expect((await second.cli.exited()).code).toBe(0);
    expect(readdirSync(join(dir, 'runtime')).filter((name) => name.startsWith('secretvisor.'))).toEqual([]);
  });
});

// Only a process still running record-env for this test: an ended child's pid may be another process's now.
function ownsRecords(pid: number, records: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`RECORD_FILE=${records}`);
  } catch {
    return false;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
