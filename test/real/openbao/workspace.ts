import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, startCli, type RunningCli } from '../../helpers/cli.js';
import { pollUntil } from '../../helpers/poll-until.js';
import { FIXTURES, readRecords, waitForRecords } from '../../helpers/project.js';
import { trackSecret } from '../../helpers/secrets.js';
import { tempDir } from '../../helpers/tmp.js';

/** A test project: its folder, `secretvisor.yaml` and the record-env child's records. */
export interface Workspace {
  readonly dir: string;
  readonly config: string;
  readonly records: string;
}

/**
 * A folder with a `secretvisor.yaml` whose `sources:` are `sources` (YAML, indented by two), with a
 * quick debounce, a short stop timeout and `startupTimeout` (default 20s: the machine may be loaded).
 */
export function workspace(sources: string, options: { startupTimeout?: string; extra?: string } = {}): Workspace {
  const dir = tempDir('sv-real-vault-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(
    config,
    `version: 1\nsources:\n${sources.replace(/^\n/, '').replace(/\n$/, '')}\n${options.extra ?? ''}` +
      `onChange:\n  debounce: 50ms\n  stopTimeout: 2s\nstartup:\n  timeout: ${options.startupTimeout ?? '20s'}\n`,
  );
  return { dir, config, records: join(dir, 'records.jsonl') };
}

/** secretvisor's environment: debug JSON logs (the most output a secret could leak into) and what record-env records. */
export function cliEnv(ws: Workspace, keys: readonly string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', SECRETVISOR_LOG_LEVEL: 'debug', RECORD_FILE: ws.records, RECORD_KEYS: keys.join(','), ...extra });
}

/** `secretvisor run -c <config> -- node record-env.mjs`, killed after the test if it still runs. */
export function startRun(ws: Workspace, env: NodeJS.ProcessEnv): RunningCli {
  return startCli(['run', '-c', ws.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: ws.dir, env });
}

/** The values of each start of the child, in order; every value is tracked by the leak check (Vault issued some of them). */
export function startValues(ws: Workspace): Record<string, string | null>[] {
  return readRecords(ws.records)
    .filter((record) => record.event === 'start')
    .map((record) => {
      for (const value of Object.values(record.values)) if (value !== null) trackSecret(value);
      return { ...record.values };
    });
}

/** How many times the child has started. */
export function starts(ws: Workspace): number {
  return readRecords(ws.records).filter((record) => record.event === 'start').length;
}

/** Waits until the child has started `count` times and the last start is ready (its handlers in). */
export async function waitForStarts(cli: RunningCli, ws: Workspace, count: number, what = `child start number ${count}`, timeoutMs = 45_000): Promise<void> {
  await waitForRecords(ws.records, () => starts(ws) >= count, what, timeoutMs);
  await cli.waitForReadyChildren(count, `${what} to be ready`);
}

/** SIGTERM, then secretvisor's exit code (the output checked for leaks). */
export async function stopRun(cli: RunningCli): Promise<number | null> {
  cli.kill('SIGTERM');
  return (await cli.exited()).code;
}

/** Polls `predicate` every 50 ms until it holds; fails after `timeoutMs` naming `what` (and secretvisor's log, when given). */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 45_000, cli?: RunningCli): Promise<void> {
  await pollUntil(predicate, what, { timeoutMs, intervalMs: 50, detail: () => (cli === undefined ? '' : `secretvisor stderr:\n${cli.stderr.slice(-6_000)}`) });
}
