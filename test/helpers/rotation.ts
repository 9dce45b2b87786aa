import { join } from 'node:path';
import { startCli, type RunningCli } from './cli.js';
import { FIXTURES, makeProject, readRecords, waitForRecords, type ChildRecord, type ProjectFile } from './project.js';

/** A supervised record-env child and where it records. */
export interface Supervised {
  readonly dir: string;
  readonly cli: RunningCli;
  readonly records: string;
  /** Starts recorded so far. */
  starts(): ChildRecord[];
  /** Waits until some start saw `key` = `value`; returns every start so far. */
  waitForStartWith(key: string, value: string): Promise<ChildRecord[]>;
  /** Stops secretvisor and checks nothing leaked. */
  stop(): Promise<void>;
}

/**
 * Starts `secretvisor run` over record-env.mjs in a fresh project and waits
 * until the child runs and every source is watched.
 */
export async function superviseRecorder(options: {
  /** The project's files; or give `dir`, an existing project. */
  files?: Record<string, ProjectFile>;
  keys: readonly string[];
  args?: readonly string[];
  dir?: string;
  /** More of secretvisor's own environment (the child inherits it). */
  env?: Record<string, string>;
}): Promise<Supervised> {
  const dir = options.dir ?? makeProject(options.files ?? {});
  const records = join(dir, `records-${Math.random().toString(36).slice(2)}.jsonl`);
  const cli = startCli(['run', ...(options.args ?? []), '--', process.execPath, FIXTURES.recordEnv], {
    cwd: dir,
    env: { PATH: process.env.PATH, RECORD_FILE: records, RECORD_KEYS: options.keys.join(','), ...options.env },
  });
  await cli.waitForStdout('ready');
  await cli.waitForStderr('watching sources for changes');
  const starts = () => readRecords(records).filter((record) => record.event === 'start');
  return {
    dir,
    cli,
    records,
    starts,
    waitForStartWith: (key, value) =>
      waitForRecords(records, (lines) => lines.some((line) => line.event === 'start' && line.values[key] === value), `a start with the new ${key}`).then(() => starts()),
    async stop() {
      cli.kill('SIGTERM');
      await cli.exited();
    },
  };
}

/** Waits until secretvisor has logged `text` `count` times. */
export function waitForLogCount(cli: RunningCli, text: string, count: number): Promise<void> {
  return cli.waitFor((c) => c.stderr.split(text).length - 1 >= count, `${count}× "${text}" in the log`);
}
