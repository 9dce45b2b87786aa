import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomSecret } from '../helpers/secrets.js';
import { makeProject } from '../helpers/project.js';
import { writeSecretFile } from '../helpers/tmp.js';
import { startCli } from '../helpers/cli.js';
import { superviseRecorder, waitForLogCount, type Supervised } from '../helpers/rotation.js';

const DOTENV = 'version: 1\nsources:\n  app: { type: dotenv, path: app.env, required: [TOKEN] }\nonChange: { debounce: 50ms, stopTimeout: 2s }\n';
const DIRECTORY = 'version: 1\nsources:\n  creds: { type: directory, path: creds }\nonChange: { debounce: 50ms, stopTimeout: 2s }\n';

let running: Supervised | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function dotenvSupervisor(first: string, args: string[] = []): Promise<Supervised> {
  running = await superviseRecorder({ files: { 'secretvisor.yaml': DOTENV, 'app.env': `TOKEN=${first}\n` }, keys: ['TOKEN'], args });
  return running;
}

/** A Kubernetes Secret volume: key → ..data/key, ..data → ..<timestamp>/ */
function writeK8sVersion(dir: string, version: string, value: string): void {
  const folder = join(dir, 'creds', `..${version}`);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  writeSecretFile(join(folder, 'token'), value, 0o400);
}

describe('rotation: every way a file really changes', () => {
  it('applies an in-place write', async () => {
    const first = randomSecret('first');
    const next = randomSecret('next');
    const s = await dotenvSupervisor(first);
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${next}\n`);
    const starts = await s.waitForStartWith('TOKEN', next);
    expect(starts.map((start) => start.values.TOKEN)).toEqual([first, next]);
  });

  it('applies an atomic replace by rename', async () => {
    const next = randomSecret('renamed');
    const s = await dotenvSupervisor(randomSecret('first'));
    writeSecretFile(join(s.dir, 'app.env.tmp'), `TOKEN=${next}\n`);
    renameSync(join(s.dir, 'app.env.tmp'), join(s.dir, 'app.env'));
    expect(await s.waitForStartWith('TOKEN', next)).toHaveLength(2);
  });

  it('applies a Kubernetes ..data symlink swap and the removal of the old folder', async () => {
    const first = randomSecret('k8s-first');
    const next = randomSecret('k8s-next');
    running = await superviseRecorder({ dir: makeK8sProject(first), keys: ['token'] });
    const dir = running.dir;
    writeK8sVersion(dir, '2024_02', next);
    symlinkSync('..2024_02', join(dir, 'creds', '..data_tmp'));
    renameSync(join(dir, 'creds', '..data_tmp'), join(dir, 'creds', '..data'));
    rmSync(join(dir, 'creds', '..2024_01'), { recursive: true });
    const starts = await running.waitForStartWith('token', next);
    expect(starts.map((start) => start.values.token)).toEqual([first, next]);
    const again = randomSecret('k8s-again');
    writeK8sVersion(dir, '2024_03', again);
    symlinkSync('..2024_03', join(dir, 'creds', '..data_tmp'));
    renameSync(join(dir, 'creds', '..data_tmp'), join(dir, 'creds', '..data'));
    rmSync(join(dir, 'creds', '..2024_02'), { recursive: true });
    expect(await running.waitForStartWith('token', again)).toHaveLength(3);
  });

  it('keeps the last good set while a file is deleted, and applies it when it comes back', async () => {
    const next = randomSecret('recreated');
    const s = await dotenvSupervisor(randomSecret('first'));
    unlinkSync(join(s.dir, 'app.env'));
    await s.cli.waitForStderr('keeping its last good secrets');
    writeSecretFile(join(s.dir, 'app.env'), `TOKEN=${next}\n`);
    expect(await s.waitForStartWith('TOKEN', next)).toHaveLength(2);
  });

  it('survives the whole folder being removed and made again', async () => {
    const first = randomSecret('dir-first');
    const next = randomSecret('dir-next');
    running = await superviseRecorder({ files: { 'secretvisor.yaml': DIRECTORY, 'creds/token': first }, keys: ['token'] });
    const dir = running.dir;
    rmSync(join(dir, 'creds'), { recursive: true });
    await running.cli.waitForStderr('keeping its last good secrets');
    mkdirSync(join(dir, 'creds'), { mode: 0o700 });
    writeSecretFile(join(dir, 'creds', 'token'), next);
    expect(await running.waitForStartWith('token', next)).toHaveLength(2);
    const again = randomSecret('dir-again');
    writeSecretFile(join(dir, 'creds', 'token'), again);
    expect(await running.waitForStartWith('token', again)).toHaveLength(3);
  });

  it('refuses a file that turns 0644, keeps the child, and applies the next safe change', async () => {
    const first = randomSecret('first');
    const next = randomSecret('after-fix');
    const s = await dotenvSupervisor(first);
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${randomSecret('unsafe')}\n`);
    chmodSync(join(s.dir, 'app.env'), 0o644);
    await s.cli.waitForStderr('group or others may access it');
    expect(s.starts()).toHaveLength(1);
    writeSecretFile(join(s.dir, 'app.env'), `TOKEN=${next}\n`, 0o600);
    const starts = await s.waitForStartWith('TOKEN', next);
    expect(starts.map((start) => start.values.TOKEN)).toEqual([first, next]);
  });

  it('treats a half-written file as "not yet": the child keeps the last good value', async () => {
    const first = randomSecret('first');
    const next = randomSecret('complete');
    const s = await dotenvSupervisor(first);
    writeFileSync(join(s.dir, 'app.env'), `TOKEN="${next}`);
    await s.cli.waitForStderr('is never closed');
    expect(s.starts()).toHaveLength(1);
    writeFileSync(join(s.dir, 'app.env'), `TOKEN="${next}"\n`);
    expect((await s.waitForStartWith('TOKEN', next)).map((start) => start.values.TOKEN)).toEqual([first, next]);
  });

  it('rejects a change that drops a required key and keeps the child on the last good set', async () => {
    const first = randomSecret('first');
    const next = randomSecret('back');
    const s = await dotenvSupervisor(first);
    writeFileSync(join(s.dir, 'app.env'), `OTHER=${randomSecret('other')}\n`);
    await s.cli.waitForStderr('required key TOKEN missing');
    await waitForLogCount(s.cli, 'keeps its last good secrets', 1);
    expect(s.starts()).toHaveLength(1);
    writeFileSync(join(s.dir, 'app.env'), `TOKEN=${next}\n`);
    expect((await s.waitForStartWith('TOKEN', next)).map((start) => start.values.TOKEN)).toEqual([first, next]);
  });

  it('applies a change made between the start-up read and the watch being armed (no event ever comes for it)', async () => {
    const first = randomSecret('first');
    const second = randomSecret('second');
    const dir = makeProject({ 'secretvisor.yaml': DOTENV, 'app.env': `TOKEN=${first}\n`, 'second.env': `TOKEN=${second}\n` });
    // The first child replaces the file at once: a shell starts in a millisecond, well before chokidar is ready.
    const child = 'echo "$TOKEN" >> seen.txt; [ -e replaced ] || { touch replaced; mv second.env app.env; }; exec sleep 30';
    const cli = startCli(['run', '--', '/bin/sh', '-c', child], { cwd: dir });
    try {
      await cli.waitFor(() => existsSync(join(dir, 'seen.txt')) && readFileSync(join(dir, 'seen.txt'), 'utf8') === `${first}\n${second}\n`, 'a second start with the replaced value');
    } finally {
      cli.kill('SIGTERM');
      await cli.exited();
    }
  });

  it('does not re-read an idle source at each refresh: the periodic check compares stats only', async () => {
    const dir = makeProject({
      'secretvisor.yaml': 'version: 1\nsources:\n  app: { type: dotenv, path: app.env, refresh: 100ms }\nonChange: { debounce: 20ms }\n',
      'app.env': `TOKEN=${randomSecret('idle')}\n`,
    });
    running = await superviseRecorder({ dir, keys: ['TOKEN'], args: ['--log-level', 'trace'] });
    const next = randomSecret('after-idle');
    await waitForLogCount(running.cli, 'periodic check: unchanged on disk', 5);
    expect(running.cli.stderr).not.toContain('change noticed');
    writeFileSync(join(dir, 'app.env'), `TOKEN=${next}\n`);
    await running.waitForStartWith('TOKEN', next);
  });

  it('does nothing when a file is rewritten with the same content', async () => {
    const first = randomSecret('same');
    const s = await dotenvSupervisor(first, ['--log-level', 'debug']);
    writeFileSync(join(s.dir, 'app.env'), `# touched\nTOKEN=${first}\n`);
    // The first is the re-read once the watch is armed.
    await waitForLogCount(s.cli, 're-read: unchanged', 2);
    expect(s.starts()).toHaveLength(1);
  });
});

function makeK8sProject(first: string): string {
  const dir = makeProject({ 'secretvisor.yaml': DIRECTORY });
  mkdirSync(join(dir, 'creds'), { mode: 0o700 });
  writeK8sVersion(dir, '2024_01', first);
  symlinkSync('..2024_01', join(dir, 'creds', '..data'));
  symlinkSync('..data/token', join(dir, 'creds', 'token'));
  return dir;
}
