import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, RunningCli, baseEnv } from '../helpers/cli.js';
import { FIXTURES, makeProject, waitForRecords } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { writeSecretFile } from '../helpers/tmp.js';

// When the kernel refuses more inotify watches (the limits are per user, and
// shared by every program of that user), the file watcher falls back to
// polling and changes are still applied. The limits are lowered for
// secretvisor alone: in a user namespace of its own, where
// /proc/sys/user/max_inotify_* are that namespace's limits and the host's
// fs.inotify settings are untouched.

const UNSHARE =
  (process.env.PATH ?? '')
    .split(':')
    .map((dir) => join(dir, 'unshare'))
    .find((path) => existsSync(path)) ?? 'unshare';

/** Runs `command` in a new user namespace (root mapped to us) whose inotify `limit` is 0. */
const LIMITED = 'echo 0 > "/proc/sys/user/$0" && exec "$@"';

/** Why this machine cannot lower inotify limits in a user namespace, or undefined when it can. */
function probeUserNamespace(): string | undefined {
  const probe = spawnSync(UNSHARE, ['--user', '--map-root-user', '/bin/sh', '-c', LIMITED, 'max_inotify_watches', '/bin/true'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `unshare is not installed (apt-get install util-linux): ${probe.error.message}`;
  if (probe.status !== 0) return `this machine does not allow user namespaces with their own inotify limits: ${probe.stderr.trim() || `exit ${probe.status}`}`;
  return undefined;
}

const noNamespace = probeUserNamespace();

const CONFIGS = {
  dotenv: { config: 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nonChange: { debounce: 50ms, stopTimeout: 2s }\n', file: 'app.env', key: 'TOKEN' },
  directory: { config: 'version: 1\nsources:\n  creds: { type: directory, path: creds }\nonChange: { debounce: 50ms, stopTimeout: 2s }\n', file: 'creds/token', key: 'token' },
} as const;

describe('the file watcher when the kernel refuses watches', () => {
  it.for([
    ['max_inotify_watches', 'ENOSPC', 'dotenv'],
    ['max_inotify_instances', 'EMFILE', 'dotenv'],
    ['max_inotify_watches', 'ENOSPC', 'directory'],
  ] as const)('%s = 0 (%s): falls back to polling, and a %s change is still applied', async ([limit, code, kind], context) => {
    context.skip(noNamespace !== undefined, noNamespace);
    const { config, file, key } = CONFIGS[kind];
    const first = randomSecret('first');
    const content = (value: string): string => (kind === 'dotenv' ? `TOKEN=${value}\n` : value);
    const dir = makeProject({ 'secretvisor.yaml': config, [file]: content(first) });
    const records = join(dir, 'records.jsonl');
    const cli = new RunningCli(
      spawn(UNSHARE, ['--user', '--map-root-user', '/bin/sh', '-c', LIMITED, limit, process.execPath, CLI, 'run', '--log-level', 'debug', '--', process.execPath, FIXTURES.recordEnv], {
        cwd: dir,
        env: baseEnv({ RECORD_FILE: records, RECORD_KEYS: key, SECRETVISOR_LOG_FORMAT: 'json' }),
      }),
    );
    try {
      await cli.waitForStderr('falling back to polling');
      expect(cli.stderr).toContain(`"code":"${code}"`);
      // Start-up completes on the polling watchers' first scan.
      await cli.waitForStderr('watching sources for changes');
      // The fall back re-reads once, for what changed while no watcher was there; only polling sees what comes after.
      await cli.waitForStderr('re-read: unchanged');
      // A restart before the first child has recorded its start would stop it unrecorded.
      await cli.waitForStdout('ready');
      const next = randomSecret('polled');
      writeSecretFile(join(dir, file), content(next));
      const lines = await waitForRecords(records, (l) => l.some((line) => line.values[key] === next), 'a start with the new value');
      expect(lines.filter((line) => line.event === 'start').map((line) => line.values[key])).toEqual([first, next]);
      await cli.waitForReadyChildren(2);
    } finally {
      cli.kill('SIGTERM');
      await cli.exited();
    }
    expect((await cli.exited()).code).toBe(0);
  });
});
