import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, RunningCli, baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES, makeProject, readRecords, waitForRecords } from '../helpers/project.js';
import { superviseRecorder, type Supervised } from '../helpers/rotation.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';

// Secret files that go wrong, at start-up (a clear error and SPEC's exit
// code, at once) and while the child runs (the child keeps its last good
// secrets, and the next good write is applied). Deleted files, 0644 flips,
// half-written files, a dropped required key and a removed folder are proven
// in rotation-patterns.test.ts.

const DOTENV = 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nonChange: { debounce: 50ms, stopTimeout: 2s }\nstartup: { timeout: 1s }\n';
const DIRECTORY = 'version: 1\nsources:\n  creds: { type: directory, path: creds }\nonChange: { debounce: 50ms, stopTimeout: 2s }\nstartup: { timeout: 1s }\n';
const NOBODY = 65534;
/** setpriv's full path (util-linux), to run secretvisor as another user; undefined when it is not installed. */
const SETPRIV = (process.env.PATH ?? '')
  .split(':')
  .map((dir) => join(dir, 'setpriv'))
  .find((path) => existsSync(path));

let running: Supervised | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Replaces `path` (a file) by what `make` puts there. */
function replace(path: string, make: (path: string) => void): void {
  rmSync(path, { force: true, recursive: true });
  make(path);
}

const fifo = (path: string): void => void execFileSync('mkfifo', ['-m', '600', path]);
const folder = (path: string): void => mkdirSync(path, { mode: 0o700 });
const loop = (path: string): void => symlinkSync(path, path);
const shadowLink = (path: string): void => symlinkSync('/etc/shadow', path);
const groupReadableLink = (path: string): void => symlinkSync(writeSecretFile(join(tempDir(), 'shadow'), `root:${randomSecret('hash')}:19000::::::\n`, 0o640), path);

describe('a broken secret file at start-up is refused at once with a clear error', () => {
  it.each<[string, number, string, (dir: string) => void, string]>([
    ['the dotenv file is a FIFO (a read would wait for a writer forever)', 65, DOTENV, (dir) => replace(join(dir, 'app.env'), fifo), 'app.env is not a regular file'],
    ['the dotenv file is a folder', 65, DOTENV, (dir) => replace(join(dir, 'app.env'), folder), 'app.env is not a regular file'],
    ['the dotenv file is a symlink loop', 65, DOTENV, (dir) => replace(join(dir, 'app.env'), loop), 'app.env is a symlink loop'],
    ['the dotenv file links to a file its group can read (as /etc/shadow is, 0640)', 77, DOTENV, (dir) => replace(join(dir, 'app.env'), groupReadableLink), 'has mode 0640'],
    ['a key is a FIFO', 65, DIRECTORY, (dir) => fifo(join(dir, 'creds', 'pipe')), 'pipe is not a regular file'],
    ['a key is a symlink loop', 65, DIRECTORY, (dir) => loop(join(dir, 'creds', 'loop')), 'key loop'],
    ['a key links to /etc/shadow', 77, DIRECTORY, (dir) => shadowLink(join(dir, 'creds', 'shadow')), 'key shadow is a link to /etc/shadow, outside the source folder'],
  ])('%s: exit %i', async (_name, code, config, breakIt, message) => {
    const dir = makeProject({ 'secretvisor.yaml': config, 'app.env': `TOKEN=${randomSecret('token')}\n`, 'creds/token': randomSecret('token') });
    breakIt(dir);
    const started = Date.now();
    const result = await runCli(['run', '--', '/bin/true'], { cwd: dir, timeoutMs: 10_000 });
    expect(result.code, result.stderr).toBe(code);
    expect(logText(result.stderr)).toContain(message);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    if (existsSync('/etc/shadow')) {
      for (const line of readFileSync('/etc/shadow', 'utf8')
        .split('\n')
        .filter((l) => l.length > 8))
        expect(result.stderr).not.toContain(line);
    }
  });

  it.each<[string, string, string]>([
    ['a dotenv path with a typo', DOTENV, 'file {dir}/app.env does not exist (ENOENT)'],
    ['a dotenv file in a folder that does not exist', DOTENV.replace('path: app.env', 'path: gone/app.env'), 'file {dir}/gone/app.env does not exist (ENOENT)'],
    ['a directory source whose folder does not exist', DIRECTORY, 'folder {dir}/creds does not exist (ENOENT)'],
  ])('%s: exit 66 at once, naming the path (not retried for startup.timeout)', async (_name, config, message) => {
    // A startup.timeout far longer than the test's bound: the exit must not come from it.
    const dir = makeProject({ 'secretvisor.yaml': config.replace('timeout: 1s', 'timeout: 60s') });
    const started = Date.now();
    const result = await runCli(['run', '--', '/bin/true'], { cwd: dir });
    expect(result.code, result.stderr).toBe(66);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(logText(result.stderr)).toContain(message.replace('{dir}', dir));
    expect(result.stderr).not.toContain('not reachable yet');
  });
});

interface RunFault {
  readonly config: string;
  readonly key: string;
  readonly files: Record<string, string>;
  /** Breaks the source while the child runs. */
  readonly breakIt: (dir: string) => void;
  /** What secretvisor logs about it. */
  readonly message: string;
  /** Makes the source good again with a new value. */
  readonly repair: (dir: string, value: string) => void;
}

const dotenvFault = (breakIt: (path: string) => void, message: string): RunFault => ({
  config: DOTENV,
  key: 'TOKEN',
  files: { 'app.env': `TOKEN=${randomSecret('first')}\n` },
  breakIt: (dir) => breakIt(join(dir, 'app.env')),
  message,
  repair: (dir, value) => replace(join(dir, 'app.env'), (path) => writeSecretFile(path, `TOKEN=${value}\n`)),
});

const keyFault = (breakIt: (dir: string) => void, message: string, repair?: (dir: string) => void): RunFault => ({
  config: DIRECTORY,
  key: 'token',
  files: { 'creds/token': randomSecret('first') },
  breakIt,
  message,
  repair: (dir, value) => {
    repair?.(dir);
    writeSecretFile(join(dir, 'creds', 'token'), value);
  },
});

describe('a secret file that breaks while the child runs: the child keeps its last good secrets, and the next good write applies', () => {
  it.each<[string, RunFault]>([
    ['truncated to empty (a rewrite caught half-way)', dotenvFault((path) => truncateSync(path, 0), 'now yields no keys at all (it had 1)')],
    ['replaced by a FIFO', dotenvFault((path) => replace(path, fifo), 'is not a regular file')],
    ['replaced by a folder', dotenvFault((path) => replace(path, folder), 'is not a regular file')],
    ['replaced by a symlink loop', dotenvFault((path) => replace(path, loop), 'is a symlink loop')],
    ['emptied of every key (a folder cleared before new files are copied in)', keyFault((dir) => unlinkSync(join(dir, 'creds', 'token')), 'now yields no keys at all (it had 1)')],
    [
      // The watcher ignores a link it cannot resolve: the loop is found by the next re-read, here for a new value.
      'given a key that is a symlink loop, then a new value',
      keyFault(
        (dir) => {
          loop(join(dir, 'creds', 'loop'));
          writeSecretFile(join(dir, 'creds', 'token'), randomSecret('blocked'));
        },
        'key loop',
        (dir) => unlinkSync(join(dir, 'creds', 'loop')),
      ),
    ],
    [
      'given a key that links to /etc/shadow',
      keyFault(
        (dir) => shadowLink(join(dir, 'creds', 'shadow')),
        'is a link to /etc/shadow, outside the source folder',
        (dir) => unlinkSync(join(dir, 'creds', 'shadow')),
      ),
    ],
  ])('%s', async (_name, fault) => {
    running = await superviseRecorder({ files: { 'secretvisor.yaml': fault.config, ...fault.files }, keys: [fault.key] });
    const first = running.starts()[0]?.values[fault.key];
    fault.breakIt(running.dir);
    await running.cli.waitForStderr(fault.message);
    expect(running.starts()).toHaveLength(1);
    const next = randomSecret('repaired');
    fault.repair(running.dir, next);
    const starts = await running.waitForStartWith(fault.key, next);
    expect(starts.map((start) => start.values[fault.key])).toEqual([first, next]);
  });

  it('applies a single key truncated to empty: an empty value is a value (the debounce lets a rewrite finish first)', async () => {
    running = await superviseRecorder({ files: { 'secretvisor.yaml': DIRECTORY, 'creds/token': randomSecret('first'), 'creds/other': randomSecret('other') }, keys: ['token'] });
    truncateSync(join(running.dir, 'creds', 'token'), 0);
    expect((await running.waitForStartWith('token', '')).at(-1)?.values.token).toBe('');
  });
});

describe.skipIf(process.getuid?.() !== 0 || SETPRIV === undefined)('a secret file made unreadable, for secretvisor running as another user (root reads anything)', () => {
  /** Starts secretvisor as nobody in a project nobody owns. */
  function runAsNobody(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, options = { chown: true }): RunningCli {
    if (options.chown) chownTree(dir, NOBODY);
    const child = spawn(SETPRIV as string, [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, CLI, ...args], {
      cwd: dir,
      env: baseEnv({ HOME: dir, ...env }),
    });
    return new RunningCli(child);
  }

  it('at start-up: exit 77, naming the file and the user that cannot read it', async () => {
    const dir = makeProject({ 'secretvisor.yaml': DOTENV, 'app.env': { content: `TOKEN=${randomSecret('token')}\n`, mode: 0o000 } });
    const result = await runAsNobody(dir, ['run', '--', '/bin/true']).exited();
    expect(result.code, result.stderr).toBe(77);
    expect(logText(result.stderr)).toContain(`cannot read ${join(dir, 'app.env')}: permission denied: file ${join(dir, 'app.env')} (owner uid ${NOBODY}, group gid ${NOBODY}, mode 0000)`);
    expect(logText(result.stderr)).toContain(`uid ${NOBODY}`);
  });

  it.each<[string, string]>([
    ['a directory source', DIRECTORY.replace('timeout: 1s', 'timeout: 60s')],
    ['a dotenv source', DOTENV.replace('path: app.env', 'path: creds/app.env').replace('timeout: 1s', 'timeout: 60s')],
  ])('%s in a root-owned 0700 folder (a mount for another --user): exit 77 at once with its owner, mode and fix', async (_name, config) => {
    const dir = makeProject({ 'secretvisor.yaml': config, 'creds/token': randomSecret('token'), 'creds/app.env': `TOKEN=${randomSecret('token')}\n` });
    chownTree(dir, NOBODY);
    chownTree(join(dir, 'creds'), 0);
    chmodSync(join(dir, 'creds'), 0o700);
    const started = Date.now();
    const result = await runAsNobody(dir, ['run', '--', '/bin/true'], {}, { chown: false }).exited();
    expect(result.code, result.stderr).toBe(77);
    expect(Date.now() - started).toBeLessThan(10_000);
    const text = logText(result.stderr);
    expect(text).toContain(`folder ${join(dir, 'creds')} (owner uid 0, group gid 0, mode 0700) does not let uid ${NOBODY} (gid ${NOBODY}), that secretvisor runs as,`);
    expect(text).toContain(`chown ${NOBODY} '${join(dir, 'creds')}'`);
    expect(text).not.toContain('missing');
    expect(result.stderr).not.toContain('not reachable yet');
  });

  it('while running: the child keeps its last good secrets until the file is readable again', async () => {
    const first = randomSecret('first');
    const dir = makeProject({ 'secretvisor.yaml': DOTENV, 'app.env': `TOKEN=${first}\n` });
    const records = join(dir, 'records.jsonl');
    const cli = runAsNobody(dir, ['run', '--', process.execPath, FIXTURES.recordEnv], { RECORD_FILE: records, RECORD_KEYS: 'TOKEN' });
    try {
      await cli.waitForStderr('watching sources for changes');
      // The child may still be starting: a stop before its SIGTERM handler is in would end it with 143.
      await waitForRecords(records, (l) => l.some((r) => r.event === 'start'), 'the first child');
      await cli.waitForStdout('ready');
      chmodSync(join(dir, 'app.env'), 0o000);
      writeSecretFile(join(dir, 'app.env'), `TOKEN=${randomSecret('unreadable')}\n`, 0o000);
      await cli.waitForStderr('permission denied');
      expect(readRecords(records).filter((r) => r.event === 'start')).toHaveLength(1);
      const next = randomSecret('readable');
      writeSecretFile(join(dir, 'app.env'), `TOKEN=${next}\n`, 0o600);
      const lines = await waitForRecords(records, (l) => l.some((r) => r.event === 'start' && r.values.TOKEN === next), 'a start with the readable value');
      expect(lines.filter((r) => r.event === 'start').map((r) => r.values.TOKEN)).toEqual([first, next]);
      await cli.waitForReadyChildren(2);
    } finally {
      cli.kill('SIGTERM');
      await cli.exited();
    }
    expect((await cli.exited()).code).toBe(0);
  });
});

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, uid);
    else chownSync(child, uid, uid);
  }
}
