import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';
import { isAlive } from '../helpers/processes.js';
import { randomSecret } from '../helpers/secrets.js';

// A child that exits by itself and leaves a `sleep 300` in its process group.
// Those leftovers hold the child's secrets; secretvisor ends them as a stop would.
const LEAVE_BEHIND = fileURLToPath(new URL('../fixtures/leave-behind.sh', import.meta.url));

const started: { cli: RunningCli; leftFile: string }[] = [];
afterEach(async () => {
  for (const { cli, leftFile } of started.splice(0)) {
    await cli.discard();
    for (const pid of leftPids(leftFile)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

function leftPids(file: string): number[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

function start(onExit: 'exit' | 'restart'): { cli: RunningCli; leftFile: string } {
  const dir = makeProject({
    'secretvisor.yaml': `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nonExit: ${onExit}\nonChange: { stopTimeout: 5s }\n`,
    'app.env': `APP_SECRET=${randomSecret('left')}\n`,
  });
  const leftFile = join(dir, 'left.txt');
  const cli = startCli(['run', '--', LEAVE_BEHIND], { cwd: dir, env: { PATH: process.env.PATH, LEFT_FILE: leftFile, SECRETVISOR_LOG_FORMAT: 'json' } });
  started.push({ cli, leftFile });
  return { cli, leftFile };
}

describe('what a child leaves in its process group when it exits by itself', () => {
  it('is ended (stopSignal) before secretvisor exits with the child code (onExit: exit)', async () => {
    const { cli, leftFile } = start('exit');
    const result = await cli.exited();
    expect(result.code).toBe(3);
    const [left] = leftPids(leftFile);
    expect(left).toBeDefined();
    // An ended orphan stays a zombie here (PID 1 does not reap): isAlive reads its /proc state, not kill -0.
    expect(isAlive(left as number)).toBe(false);
    expect(logText(result.stderr)).toContain(`left ${left} running in its process group or cgroup; ending them with SIGTERM`);
  });

  it('does not pile up with onExit: restart: every crashed child leftovers are gone before the next start', async () => {
    const { cli, leftFile } = start('restart');
    await cli.waitForStderr('restart 3 in a row');
    const lefts = leftPids(leftFile).slice(0, 3);
    expect(lefts).toHaveLength(3);
    for (const pid of lefts) expect(isAlive(pid), `leftover ${pid}`).toBe(false);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(3);
  });
});
