import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeProject, readRecords, waitForRecords } from '../helpers/project.js';
import { superviseRecorder, type Supervised } from '../helpers/rotation.js';
import { randomSecret } from '../helpers/secrets.js';

// db restarts; keys is only signalled with SIGUSR1; tokens follows the global onChange (env: signal, SIGUSR2).
const CONFIG = `version: 1
sources:
  db: { type: dotenv, path: db.env, onChange: restart }
  keys: { type: dotenv, path: keys.env, onChange: { action: signal, signal: SIGUSR1 } }
  tokens: { type: dotenv, path: tokens.env }
onChange: { debounce: 300ms, env: signal, signal: SIGUSR2 }
`;

const supervisors: Supervised[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
});

async function supervise(): Promise<Supervised> {
  const s = await superviseRecorder({
    files: {
      'secretvisor.yaml': CONFIG,
      'db.env': `DB_PASSWORD=${randomSecret('db')}\n`,
      'keys.env': `API_KEY=${randomSecret('key')}\n`,
      'tokens.env': `TOKEN=${randomSecret('token')}\n`,
    },
    keys: ['DB_PASSWORD', 'API_KEY', 'TOKEN'],
  });
  supervisors.push(s);
  return s;
}

const rotate = (s: Supervised, file: string, name: string): void => writeFileSync(join(s.dir, file), `${name}=${randomSecret(name)}\n`);

describe('onChange per source', () => {
  it('a source with onChange: { action: signal, signal: SIGUSR1 } is only signalled, with its own signal', async () => {
    const s = await supervise();
    rotate(s, 'keys.env', 'API_KEY');
    await waitForRecords(s.records, (lines) => lines.some((line) => line.signal === 'SIGUSR1'), 'SIGUSR1 at the child');
    expect(readRecords(s.records).map((line) => line.signal ?? line.event)).toEqual(['start', 'SIGUSR1']);
  });

  it('a source with onChange: restart restarts the child although the global action is signal', async () => {
    const s = await supervise();
    rotate(s, 'db.env', 'DB_PASSWORD');
    await waitForRecords(s.records, (lines) => lines.filter((line) => line.event === 'start').length === 2, 'a second start');
    expect(readRecords(s.records).map((line) => line.signal ?? line.event)).toEqual(['start', 'SIGTERM', 'start']);
  });

  it('restart wins when a restarting and a signalled source change in one reload', async () => {
    const s = await supervise();
    rotate(s, 'keys.env', 'API_KEY');
    rotate(s, 'db.env', 'DB_PASSWORD');
    await waitForRecords(s.records, (lines) => lines.filter((line) => line.event === 'start').length === 2, 'a second start');
    expect(readRecords(s.records).map((line) => line.signal ?? line.event)).toEqual(['start', 'SIGTERM', 'start']);
    expect(s.cli.stderr).not.toContain('sending SIGUSR1');
  });

  it('two sources with different signals changing in one reload: each signal is sent once', async () => {
    const s = await supervise();
    rotate(s, 'keys.env', 'API_KEY');
    rotate(s, 'tokens.env', 'TOKEN');
    await waitForRecords(s.records, (lines) => lines.filter((line) => line.event === 'signal').length === 2, 'two signals');
    const signals = readRecords(s.records)
      .filter((line) => line.event === 'signal')
      .map((line) => line.signal);
    expect(signals.sort()).toEqual(['SIGUSR1', 'SIGUSR2']);
    expect(s.starts()).toHaveLength(1);
  });

  it('refuses a signal on a source whose action is not signal (exit 78)', async () => {
    const dir = makeProject({ 'secretvisor.yaml': 'version: 1\nsources:\n  db: { type: dotenv, path: db.env, onChange: { action: restart, signal: SIGUSR1 } }\n', 'db.env': 'A=1\n' });
    const result = await runCli(['check', '-c', join(dir, 'secretvisor.yaml')], { cwd: dir });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('sources.db.onChange: signal SIGUSR1 is set but the action is restart');
  });
});
