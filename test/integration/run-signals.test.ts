import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { logEntries, logText } from '../helpers/log-capture.js';
import { randomSecret } from '../helpers/secrets.js';
import { FIXTURES, makeProject, readRecords, waitForRecords } from '../helpers/project.js';
import { isAlive, isListening, waitForDeath } from '../helpers/processes.js';

const secret = randomSecret('sig');

function project(onChange = '{ stopTimeout: 500ms }'): string {
  return makeProject({
    'secretvisor.yaml': `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nonChange: ${onChange}\n`,
    'app.env': `APP_SECRET=${secret}\n`,
  });
}

function startRecorder(dir: string, extraArgs: string[] = [], env: Record<string, string> = {}) {
  const records = join(dir, 'records.jsonl');
  const cli = startCli(['run', ...extraArgs, '--', process.execPath, FIXTURES.recordEnv], {
    cwd: dir,
    env: { PATH: process.env.PATH, RECORD_FILE: records, RECORD_KEYS: 'APP_SECRET', ...env },
  });
  return { cli, records };
}

describe('signals', () => {
  it.each(['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGQUIT', 'SIGWINCH'] as const)('forwards %s to the child', async (signal) => {
    const { cli, records } = startRecorder(project());
    await cli.waitForStdout('ready');
    cli.kill(signal);
    await waitForRecords(records, (lines) => lines.some((line) => line.event === 'signal' && line.signal === signal), `${signal} at the child`);
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(0);
  });

  it('holds a forwarded SIGHUP until a child that is still starting has its handler, instead of killing it', async () => {
    const { cli, records } = startRecorder(project(), [], { HANDLERS_AFTER_MS: '800' });
    await cli.waitForStdout('ready');
    cli.kill('SIGHUP');
    const lines = await waitForRecords(records, (l) => l.some((line) => line.signal === 'SIGHUP'), 'SIGHUP at the child');
    expect(lines.map((line) => line.event)).toEqual(['start', 'handlers', 'signal']);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });

  it('never opens the debugger on SIGUSR1', async () => {
    const { cli, records } = startRecorder(project());
    await cli.waitForStdout('ready');
    cli.kill('SIGUSR1');
    await waitForRecords(records, (lines) => lines.some((line) => line.signal === 'SIGUSR1'), 'SIGUSR1 at the child');
    expect(await isListening(9229)).toBe(false);
    expect(cli.stderr).not.toContain('Debugger listening');
    cli.kill('SIGTERM');
    await cli.exited();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops the child on %s, which it receives as that same signal, and exits with its code', async (signal) => {
    const { cli, records } = startRecorder(project());
    await cli.waitForStdout('ready');
    cli.kill(signal);
    const result = await cli.exited();
    expect(result.code).toBe(0);
    const lines = await waitForRecords(records, (l) => l.some((line) => line.event === 'stop'), 'the child to stop');
    expect(lines.filter((line) => line.event === 'start')).toHaveLength(1);
    expect(lines.find((line) => line.event === 'stop')?.signal).toBe(signal);
  });

  it("passes a SIGINT on as SIGINT, once, and keeps the app's own exit code (130)", async () => {
    const cli = startCli(['run', '--', process.execPath, FIXTURES.countSigint], { cwd: project() });
    await cli.waitForStdout('ready');
    cli.kill('SIGINT');
    const result = await cli.exited();
    expect(result.stdout).toContain('SIGINT 1');
    expect(result.stdout).not.toContain('SIGINT 2');
    expect(result.code).toBe(130);
    expect(logText(result.stderr)).toMatch(/the child \(pid \d+\) exited with code 130/);
  });

  it('a SIGTERM still sends stopSignal, not SIGTERM itself', async () => {
    const { cli, records } = startRecorder(project('{ stopSignal: SIGINT, stopTimeout: 5s }'));
    await cli.waitForStdout('ready');
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(readRecords(records).find((line) => line.event === 'stop')?.signal).toBe('SIGINT');
  });

  it('uses the configured stop signal', async () => {
    const { cli, records } = startRecorder(project('{ stopSignal: SIGUSR2, stopTimeout: 300ms }'));
    await cli.waitForStdout('ready');
    cli.kill('SIGTERM');
    const result = await cli.exited();
    await waitForRecords(records, (l) => l.some((line) => line.signal === 'SIGUSR2'), 'SIGUSR2 as the stop signal');
    expect(result.code).toBe(137);
  });

  it('kills a child that ignores SIGTERM, and its grandchild, after stopTimeout', async () => {
    const dir = project();
    const cli = startCli(['run', '--', process.execPath, FIXTURES.ignoreSigterm], { cwd: dir });
    await cli.waitForStdout('ready');
    const [, child, grandchild] = (/ready (\d+) (\d+)/.exec(cli.stdout) ?? []).map(Number);
    expect(isAlive(child as number) && isAlive(grandchild as number)).toBe(true);
    const started = Date.now();
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(137);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(await waitForDeath(child as number, 2_000)).toBe(true);
    expect(await waitForDeath(grandchild as number, 2_000)).toBe(true);
  });

  it('warns with the pids still running when a stop has to SIGKILL them', async () => {
    const cli = startCli(['run', '--', process.execPath, FIXTURES.ignoreSigterm], { cwd: project() });
    await cli.waitForStdout('ready');
    const [, child, grandchild] = (/ready (\d+) (\d+)/.exec(cli.stdout) ?? []).map(Number);
    cli.kill('SIGTERM');
    const result = await cli.exited();
    const warning = logEntries(result.stderr).find((line) => line.msg?.includes('sending SIGKILL')) as { level: number; msg: string; pids?: number[] } | undefined;
    expect(warning?.level).toBe(40);
    expect([...(warning?.pids ?? [])].sort()).toEqual([child, grandchild].sort());
    expect(warning?.msg).toContain('500ms after SIGTERM');
    expect(logText(result.stderr)).toMatch(new RegExp(`the child \\(pid ${child}\\) was ended by SIGKILL \\(exit code 137\\)`));
  });

  it.each([
    ['a stop', [], {}, 'SIGTERM', /the child \(pid (\d+)\) exited with code 0/],
    ['--once', ['--once'], { EXIT_CODE: '4' }, undefined, /child exited with code 4/],
    ['a crash (onExit: restart)', ['--on-exit', 'restart'], { EXIT_CODE: '5' }, undefined, /child exited with code 5; restarting in/],
  ] as const)('logs the exit of the child with its code after %s', async (_path, args, env, signal, pattern) => {
    const dir = project();
    const cli = startCli(['run', ...args, '--', process.execPath, FIXTURES.recordEnv], {
      cwd: dir,
      env: { PATH: process.env.PATH, SECRETVISOR_LOG_FORMAT: 'json', ...env },
    });
    if (signal !== undefined) {
      await cli.waitForStdout('ready');
      cli.kill(signal);
    }
    await cli.waitFor((c) => pattern.test(logText(c.stderr)), `the exit in the log (${pattern})`);
    if (!cli.hasExited) cli.kill('SIGTERM');
    await cli.exited();
  });

  it('logs the exit of the old child after a restart for new secrets', async () => {
    const dir = project('{ debounce: 50ms }');
    const { cli } = startRecorder(dir);
    await cli.waitForStdout('ready');
    await cli.waitForStderr('watching sources for changes');
    writeFileSync(join(dir, 'app.env'), `APP_SECRET=${randomSecret('sig-next')}\n`);
    await cli.waitForReadyChildren(2);
    await cli.waitFor((c) => /the old child \(pid \d+\) exited with code 0/.test(logText(c.stderr)), 'the old child in the log');
    cli.kill('SIGTERM');
    await cli.exited();
  });

  it('does not restart or leave a child behind when the child exits by itself (onExit: exit)', async () => {
    const dir = project();
    const records = join(dir, 'records.jsonl');
    const cli = startCli(['run', '--', process.execPath, FIXTURES.recordEnv], {
      cwd: dir,
      env: { PATH: process.env.PATH, RECORD_FILE: records, RECORD_KEYS: 'APP_SECRET', EXIT_CODE: '7' },
    });
    const result = await cli.exited();
    expect(result.code).toBe(7);
    const lines = await waitForRecords(records, (l) => l.length > 0, 'one start');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.values.APP_SECRET).toBe(secret);
  });
});
