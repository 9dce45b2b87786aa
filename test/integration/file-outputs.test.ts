import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomSecret } from '../helpers/secrets.js';
import { countLogLines, fileWorkspace, killGroup, recordsOf, runtimeFolders, startRun, waitForRecords, workspaceEnv, writeDotenv, type FileWorkspace } from './file-outputs-workspace.js';

const RECORD_KEYS = 'APP_TOKEN,DB_PASSWORD,KEY_CURRENT,KEY_NEXT,SPARE,KEYS_PATH';
// Logged by the supervisor when a source changed but nothing this service receives did: a barrier that
// proves every earlier reload has been acted on, since reloads are handled one after the other.
const NOTHING_CHANGED = 'but nothing this service receives did';

const CONFIG = `sources:
  app:
    type: dotenv
    path: app.env
  keys:
    type: dotenv
    path: keys.env
    asEnv: false
files:
  - path: keys/api-keys
    template: "{{secret.KEY_CURRENT}}\\n{{secret.KEY_NEXT}}\\n"
    env: KEYS_PATH
  - path: db-password
    template: "{{secret.DB_PASSWORD}}"
    mode: "0440"`;

interface Secrets {
  app: Record<string, string>;
  keys: Record<string, string>;
}

/** A workspace with the app (env) and keys (asEnv: false) sources filled with fresh random values. */
function keysWorkspace(config = CONFIG): { ws: FileWorkspace; secrets: Secrets } {
  const ws = fileWorkspace(config);
  const secrets = {
    app: { APP_TOKEN: randomSecret('app-token'), DB_PASSWORD: randomSecret('db-password') },
    keys: { KEY_CURRENT: randomSecret('key-current'), KEY_NEXT: randomSecret('key-next'), SPARE: randomSecret('spare') },
  };
  writeDotenv(join(ws.dir, 'app.env'), secrets.app);
  writeDotenv(join(ws.dir, 'keys.env'), secrets.keys);
  return { ws, secrets };
}

function envFor(ws: FileWorkspace, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return workspaceEnv(ws, { RECORD_KEYS, FILE_VAR: 'KEYS_PATH', ...extra });
}

const mode = (path: string): number => statSync(path).mode & 0o777;
const runtimeFolderOf = (pointer: string | null): string => dirname(dirname(pointer as string));

/** Changes a source that feeds nothing, then waits until the supervisor says so: every earlier reload is done. */
async function reloadBarrier(cli: ReturnType<typeof startRun>, ws: FileWorkspace, secrets: Secrets): Promise<void> {
  const seen = countLogLines(cli, NOTHING_CHANGED);
  secrets.keys.SPARE = randomSecret('spare');
  writeDotenv(join(ws.dir, 'keys.env'), secrets.keys);
  await cli.waitFor((c) => countLogLines(c, NOTHING_CHANGED) > seen, 'the reload of an unused key');
}

describe('file outputs of secretvisor run', () => {
  it('writes each file with its content and mode into a 0700 folder named after its pid, and points the child at it', async () => {
    const { ws, secrets } = keysWorkspace();
    const cli = startRun(ws, { env: envFor(ws) });
    const [start] = await waitForRecords(cli, ws, 'start', 1);

    const folder = runtimeFolderOf(start?.pointer ?? null);
    expect(dirname(folder)).toBe(ws.base);
    expect(folder).toMatch(new RegExp(`/secretvisor\\.${cli.pid}\\.[A-Za-z0-9]{6}$`));
    expect(start?.pointer).toBe(join(folder, 'keys', 'api-keys'));
    expect(start?.content).toBe(`${secrets.keys.KEY_CURRENT}\n${secrets.keys.KEY_NEXT}\n`);
    expect(readFileSync(join(folder, 'db-password'), 'utf8')).toBe(secrets.app.DB_PASSWORD);
    expect(mode(folder).toString(8)).toBe('700');
    expect(mode(join(folder, 'keys')).toString(8)).toBe('700');
    expect(mode(join(folder, 'keys', 'api-keys')).toString(8)).toBe('400');
    expect(mode(join(folder, 'db-password')).toString(8)).toBe('440');
    expect(readdirSync(join(folder, 'keys')), 'no temp file is left').toEqual(['api-keys']);
    // The asEnv: false source feeds templates only.
    expect(start?.env).toEqual({ ...secrets.app, KEY_CURRENT: null, KEY_NEXT: null, SPARE: null, KEYS_PATH: start?.pointer });

    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(runtimeFolders(ws)).toEqual([]);
  });

  it.each(['000', '077', '277'])('gives the folder 0700 and the files their configured modes under umask %s', async (umask) => {
    const { ws } = keysWorkspace();
    // The umask is inherited at spawn: set it around the spawn only.
    const previous = process.umask(Number.parseInt(umask, 8));
    const cli = startRun(ws, { env: envFor(ws) });
    process.umask(previous);
    const [start] = await waitForRecords(cli, ws, 'start', 1);
    const folder = runtimeFolderOf(start?.pointer ?? null);

    expect([folder, join(folder, 'keys'), join(folder, 'keys', 'api-keys'), join(folder, 'db-password')].map((p) => mode(p).toString(8))).toEqual(['700', '700', '400', '440']);
    cli.kill('SIGTERM');
    await cli.exited();
  });

  it('rewrites the files and sends exactly one SIGHUP, with no restart, when only file outputs change', async () => {
    const { ws, secrets } = keysWorkspace();
    const cli = startRun(ws, { env: envFor(ws) });
    const [start] = await waitForRecords(cli, ws, 'start', 1);

    // Rotation step 1: the new key joins the list.
    secrets.keys.KEY_NEXT = randomSecret('key-new');
    writeDotenv(join(ws.dir, 'keys.env'), secrets.keys);
    const [hup] = await waitForRecords(cli, ws, 'SIGHUP', 1);
    await reloadBarrier(cli, ws, secrets);

    // The child read the new file when the signal came: it was written first.
    expect(hup?.content).toBe(`${secrets.keys.KEY_CURRENT}\n${secrets.keys.KEY_NEXT}\n`);
    expect(hup?.pid).toBe(start?.pid);
    expect(recordsOf(ws, 'start')).toHaveLength(1);
    expect(recordsOf(ws, 'SIGHUP')).toHaveLength(1);
    expect(countLogLines(cli, 'sending SIGHUP')).toBe(1);
    expect(mode(start?.pointer as string).toString(8)).toBe('400');
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });

  it('restarts the child once, with no SIGHUP, when the environment and a file change together', async () => {
    const { ws, secrets } = keysWorkspace();
    const cli = startRun(ws, { env: envFor(ws) });
    const [first] = await waitForRecords(cli, ws, 'start', 1);

    secrets.app.DB_PASSWORD = randomSecret('db-password-new');
    writeDotenv(join(ws.dir, 'app.env'), secrets.app);
    const starts = await waitForRecords(cli, ws, 'start', 2);
    await reloadBarrier(cli, ws, secrets);

    expect(starts[1]?.env.DB_PASSWORD).toBe(secrets.app.DB_PASSWORD);
    expect(starts[1]?.pid).not.toBe(first?.pid);
    expect(readFileSync(join(runtimeFolderOf(first?.pointer ?? null), 'db-password'), 'utf8')).toBe(secrets.app.DB_PASSWORD);
    expect(recordsOf(ws, 'start')).toHaveLength(2);
    expect(recordsOf(ws, 'stop')).toHaveLength(1);
    expect(recordsOf(ws, 'SIGHUP')).toHaveLength(0);
    expect(countLogLines(cli, 'restarting the child')).toBe(1);
    cli.kill('SIGTERM');
    await cli.exited();
  });

  it('never lets a reader see a partial, empty or missing file while the file is rewritten many times', async () => {
    const ws = fileWorkspace(`sources:
  big:
    type: dotenv
    path: big.env
    asEnv: false
files:
  - path: bundle.pem
    template: "BEGIN\\n{{secret.BIG}}\\nEND\\n"
    env: BUNDLE_PATH`);
    const bigValue = (): string => `${randomSecret('big')}${'x'.repeat(60_000)}`;
    writeDotenv(join(ws.dir, 'big.env'), { BIG: bigValue() });
    const cli = startRun(ws, { env: workspaceEnv(ws, { FILE_VAR: 'BUNDLE_PATH' }) });
    const [start] = await waitForRecords(cli, ws, 'start', 1);
    const expectedLength = (start?.content as string).length;
    const reader = spawn(process.execPath, ['-e', READER, start?.pointer as string, String(expectedLength)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let summary = '';
    reader.stdout.setEncoding('utf8').on('data', (chunk: string) => (summary += chunk));
    await new Promise((resolve) => reader.stdout.once('data', resolve));

    const rewrites = 15;
    try {
      for (let i = 1; i <= rewrites; i++) {
        writeDotenv(join(ws.dir, 'big.env'), { BIG: bigValue() });
        await waitForRecords(cli, ws, 'SIGHUP', i);
      }
    } finally {
      // The reader spins until stopped: it must not outlive a failure.
      reader.kill('SIGTERM');
      await once(reader, 'close');
    }

    const result = JSON.parse(summary.split('\n').filter(Boolean).at(-1) as string) as { reads: number; bad: number; missing: number; versions: number };
    expect(result.bad, 'reads of a partial or empty file').toBe(0);
    expect(result.missing, 'reads that found no file').toBe(0);
    expect(result.versions, 'versions the reader saw').toBeGreaterThan(1);
    expect(result.reads).toBeGreaterThan(rewrites);
    cli.kill('SIGTERM');
    await cli.exited();
  });

  it('refuses to write through a symlink planted in the runtime folder: no write, no signal, the target untouched', async () => {
    const { ws, secrets } = keysWorkspace();
    const outside = join(ws.dir, 'outside.txt');
    writeFileSync(outside, 'untouched\n');
    const cli = startRun(ws, { env: envFor(ws) });
    const [start] = await waitForRecords(cli, ws, 'start', 1);
    rmSync(start?.pointer as string);
    symlinkSync(outside, start?.pointer as string);

    secrets.keys.KEY_NEXT = randomSecret('key-new');
    writeDotenv(join(ws.dir, 'keys.env'), secrets.keys);
    await cli.waitForStderr('is a symlink inside the output folder');

    expect(readFileSync(outside, 'utf8')).toBe('untouched\n');
    expect(recordsOf(ws, 'SIGHUP')).toHaveLength(0);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    // Removing the folder removed the link, not what it points at.
    expect(readFileSync(outside, 'utf8')).toBe('untouched\n');
    expect(runtimeFolders(ws)).toEqual([]);
  });

  it.each(['../escape', '/tmp/escape', 'keys/../../escape'])('refuses the file path %s, which leaves the runtime folder (exit 78)', async (path) => {
    const { ws } = keysWorkspace(`sources:
  keys:
    type: dotenv
    path: keys.env
files:
  - path: ${path}
    template: "{{secret.KEY_CURRENT}}"`);
    const result = await startRun(ws, { env: envFor(ws) }).exited();

    expect(result.code).toBe(78);
    expect(result.stderr).toContain('leaves the private runtime folder');
    expect(readdirSync(ws.base)).toEqual([]);
  });
});

describe('the runtime folder is removed', () => {
  it.each<[string, NodeJS.Signals | undefined, NodeJS.ProcessEnv, number]>([
    ['the child exits by itself', undefined, { EXIT_CODE: '3' }, 3],
    ['secretvisor gets SIGTERM', 'SIGTERM', {}, 0],
    ['secretvisor gets SIGINT', 'SIGINT', {}, 0],
  ])('when %s', async (_when, signal, extra, code) => {
    const { ws } = keysWorkspace();
    const cli = startRun(ws, { env: envFor(ws, extra) });
    await waitForRecords(cli, ws, 'start', 1);
    if (signal !== undefined) {
      await cli.waitForStdout('ready');
      cli.kill(signal);
    }

    expect((await cli.exited()).code).toBe(code);
    expect(runtimeFolders(ws)).toEqual([]);
  });

  it('when start-up fails after the folder was made (a template names an unknown secret, exit 78)', async () => {
    const { ws } = keysWorkspace(`${CONFIG}
  - path: extra
    template: "{{secret.NO_SUCH_SECRET}}"`);
    const result = await startRun(ws, { env: envFor(ws) }).exited();

    expect(result.code).toBe(78);
    expect(result.stderr).toContain('NO_SUCH_SECRET');
    expect(runtimeFolders(ws)).toEqual([]);
  });

  it('at the next start, when secretvisor was SIGKILLed, keeping the folders of live runs', async () => {
    const { ws } = keysWorkspace();
    const killed = startRun(ws, { env: envFor(ws) });
    const [start] = await waitForRecords(killed, ws, 'start', 1);
    await killed.waitForStdout('ready');
    killed.kill('SIGKILL');
    killGroup(start?.pid as number);
    await killed.exited();
    const leftover = runtimeFolderOf(start?.pointer ?? null);
    // A folder named after a live process (this test runner) belongs to a run that is still going.
    const alive = join(ws.base, `secretvisor.${process.pid}.AbC123`);
    mkdirSync(alive, { mode: 0o700 });
    expect(runtimeFolders(ws).sort()).toEqual([leftover.split('/').at(-1), alive.split('/').at(-1)].sort());

    const next = startRun(ws, { env: envFor(ws) });
    const [, restarted] = await waitForRecords(next, ws, 'start', 2);

    const current = runtimeFolderOf(restarted?.pointer ?? null)
      .split('/')
      .at(-1);
    expect(runtimeFolders(ws).sort()).toEqual([current, alive.split('/').at(-1)].sort());
    expect(next.stderr).toContain('removed 1 runtime folder(s)');
    next.kill('SIGTERM');
    await next.exited();
  });
});

/**
 * Reads the file at argv[2] in a tight loop and counts reads whose content is
 * not a whole BEGIN…END file of argv[3] characters; prints a JSON summary
 * when it starts and on SIGTERM.
 */
const READER = `
const { readFileSync } = require('node:fs');
const [path, length] = [process.argv[1], Number(process.argv[2])];
let reads = 0, bad = 0, missing = 0;
const versions = new Set();
const summary = () => JSON.stringify({ reads, bad, missing, versions: versions.size }) + '\\n';
process.on('SIGTERM', () => { process.stdout.write(summary()); process.exit(0); });
process.stdout.write(summary());
const loop = () => {
  let text;
  try { text = readFileSync(path, 'utf8'); } catch { missing++; return setImmediate(loop); }
  reads++;
  if (text.length !== length || !text.startsWith('BEGIN\\n') || !text.endsWith('\\nEND\\n')) bad++;
  else versions.add(text.slice(6, 40));
  setImmediate(loop);
};
loop();
`;
