import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomSecret } from '../helpers/secrets.js';
import { makeProject, readRecords, waitForRecords } from '../helpers/project.js';
import { superviseRecorder, type Supervised } from '../helpers/rotation.js';
import { startCli } from '../helpers/cli.js';
import { logEntries } from '../helpers/log-capture.js';
import { FIXTURES } from '../helpers/project.js';

const config = (onChange: string, extra = '') => `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nonChange: ${onChange}\n${extra}`;

const supervisors: Supervised[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
});

async function supervise(onChange: string, first: string, args: string[] = []): Promise<Supervised> {
  const s = await superviseRecorder({ files: { 'secretvisor.yaml': config(onChange), 'app.env': `TOKEN=${first}\n` }, keys: ['TOKEN'], args });
  supervisors.push(s);
  return s;
}

describe('onChange actions', () => {
  it('restart: stops the old child completely before starting the new one — never two at once', async () => {
    const s = await supervise('{ debounce: 50ms }', randomSecret('a'));
    const next = randomSecret('b');
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${next}\n`);
    await s.waitForStartWith('TOKEN', next);
    const events = readRecords(s.records).map((record) => record.event);
    expect(events).toEqual(['start', 'stop', 'start']);
  });

  it('signal: sends onChange.signal and does not restart', async () => {
    const s = await supervise('{ debounce: 50ms, env: signal, signal: SIGUSR2 }', randomSecret('a'));
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${randomSecret('b')}\n`);
    await waitForRecords(s.records, (lines) => lines.some((line) => line.signal === 'SIGUSR2'), 'SIGUSR2 at the child');
    expect(s.starts()).toHaveLength(1);
    expect(s.cli.stderr).toContain('the child keeps its old environment until it restarts');
  });

  it('none: logs the change and leaves the child alone', async () => {
    const s = await supervise('{ debounce: 50ms, env: none }', randomSecret('a'));
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${randomSecret('b')}\n`);
    await s.cli.waitForStderr('onChange is none');
    expect(readRecords(s.records).map((record) => record.event)).toEqual(['start']);
  });

  it('takes command-line overrides of onChange', async () => {
    const s = await supervise('{ debounce: 50ms }', randomSecret('a'), ['--on-change-env', 'signal', '--signal', 'SIGHUP']);
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${randomSecret('b')}\n`);
    await waitForRecords(s.records, (lines) => lines.some((line) => line.signal === 'SIGHUP'), 'SIGHUP at the child');
    expect(s.starts()).toHaveLength(1);
  });

  it('signal: waits for a child that has just started to install its handler, instead of killing it with the signal', async () => {
    const s = await superviseRecorder({
      files: { 'secretvisor.yaml': config('{ debounce: 50ms, env: signal }'), 'app.env': `TOKEN=${randomSecret('a')}\n` },
      keys: ['TOKEN'],
      env: { HANDLERS_AFTER_MS: '1000' },
    });
    supervisors.push(s);
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${randomSecret('b')}\n`);
    await s.cli.waitForStderr('sending SIGHUP to the child');
    const lines = await waitForRecords(s.records, (l) => l.some((line) => line.signal === 'SIGHUP'), 'SIGHUP at the child');
    expect(lines.map((line) => line.event)).toEqual(['start', 'handlers', 'signal']);
    expect(s.cli.stderr).not.toContain('has no handler');
  });

  it('signal: sends it to a child that never handles it once the wait is over, with a warning, and exits with its code', async () => {
    const s = await superviseRecorder({
      files: { 'secretvisor.yaml': config('{ debounce: 50ms, env: signal }'), 'app.env': `TOKEN=${randomSecret('a')}\n` },
      keys: ['TOKEN'],
      env: { HANDLERS_AFTER_MS: 'never' },
    });
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${randomSecret('b')}\n`);
    const result = await s.cli.exited();
    expect(result.code).toBe(129);
    const logged = (text: string): number => Date.parse(logEntries(result.stderr).find((line) => line.msg?.includes(text))?.time ?? '');
    // Sent when the child had been up for the whole wait (2 s), not when the change came.
    expect(logged('has no handler for SIGHUP; sending it anyway') - logged('started ')).toBeGreaterThanOrEqual(1_900);
  });

  it('rejects a bad command-line override with exit 78', async () => {
    const dir = makeProject({ 'secretvisor.yaml': config('{}'), 'app.env': 'TOKEN=x\n' });
    const cli = startCli(['run', '--on-change-env', 'explode', '--', '/bin/true'], { cwd: dir });
    const result = await cli.exited();
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('invalid command-line option');
  });
});

describe('scope isolation during rotation', () => {
  it('restarts the pool worker whose secret changed, and not the frontend', async () => {
    const platform = `version: 1
sources:
  platform: { type: dotenv, path: platform.env }
  finance: { type: dotenv, path: finance.env }
scopes:
  global: [platform]
  services: { frontend: [], worker: [] }
  pools: { worker: { finance: [finance] } }
onChange: { debounce: 50ms }
`;
    const dir = makeProject({ 'secretvisor.yaml': platform, 'platform.env': `DB=${randomSecret('db')}\n`, 'finance.env': `BANK=${randomSecret('bank')}\n` });
    const frontend = await superviseRecorder({ dir, keys: ['DB', 'BANK'], args: ['--service', 'frontend'] });
    const worker = await superviseRecorder({ dir, keys: ['DB', 'BANK'], args: ['--service', 'worker', '--pool', 'finance'] });
    supervisors.push(frontend, worker);
    const bank = randomSecret('bank-next');
    writeFileSync(join(dir, 'finance.env'), `BANK=${bank}\n`);
    await worker.waitForStartWith('BANK', bank);
    const db = randomSecret('db-next');
    writeFileSync(join(dir, 'platform.env'), `DB=${db}\n`);
    await frontend.waitForStartWith('DB', db);
    await worker.waitForStartWith('DB', db);
    expect(frontend.starts().map((start) => start.values.BANK)).toEqual([null, null]);
    expect(worker.starts()).toHaveLength(3);
  });
});

describe('onExit', () => {
  it('restart: restarts a crashing child with growing, logged backoff, and exits with its code on SIGTERM', async () => {
    const dir = makeProject({ 'secretvisor.yaml': config('{ debounce: 50ms }', 'onExit: restart\n'), 'app.env': 'TOKEN=x\n' });
    const records = join(dir, 'records.jsonl');
    const cli = startCli(['run', '--', process.execPath, FIXTURES.recordEnv], {
      cwd: dir,
      env: { PATH: process.env.PATH, RECORD_FILE: records, RECORD_KEYS: 'TOKEN', EXIT_CODE: '3' },
    });
    await waitForRecords(records, (lines) => lines.length >= 3, 'three starts');
    await cli.waitForStderr('restart 2 in a row');
    const delays = [...cli.stderr.matchAll(/"delayMs":(\d+)/g)].map((match) => Number(match[1]));
    expect(delays[1]).toBeGreaterThanOrEqual(delays[0] as number);
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(3);
  });
});

describe('restart storms cannot happen', () => {
  it('turns 200 writes in two seconds into a handful of restarts, ending on the last write', async () => {
    const s = await supervise('{ debounce: 250ms }', randomSecret('storm-0'));
    let last = '';
    for (let i = 1; i <= 200; i++) {
      last = randomSecret(`storm-${i}`);
      writeFileSync(join(s.dir, 'app.env'), `TOKEN=${last}\n`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const starts = await s.waitForStartWith('TOKEN', last);
    expect(starts.length).toBeLessThanOrEqual(6);
    const events = readRecords(s.records).map((record) => record.event);
    for (let i = 1; i < events.length; i++) expect(events[i - 1] === 'start' && events[i] === 'start').toBe(false);
  });
});
