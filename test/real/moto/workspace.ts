import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCli, type RunningCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

/** A child that writes its whole environment to a file, then announces itself (its SIGTERM handler in: a test may stop it from then on) and waits. */
const PRINT_ENV_CHILD = `
import { renameSync, writeFileSync } from 'node:fs';
process.on('SIGTERM', () => process.exit(0));
const file = process.argv[2];
writeFileSync(file + '.tmp', JSON.stringify(process.env));
renameSync(file + '.tmp', file);
process.stdout.write('child-ready ' + process.pid + '\\n');
setInterval(() => {}, 1 << 30);
`;

/** A test folder with `secretvisor.yaml` and a child that records its environment. */
export interface Workspace {
  readonly dir: string;
  readonly config: string;
  readonly envFile: string;
  readonly child: readonly string[];
}

/** A folder with `secretvisor.yaml` (the given `sources:`/`scopes:` YAML, fast debounce, `startupTimeout`) and the print-env child. */
export function workspace(yaml: string, startupTimeout = '20s'): Workspace {
  const dir = tempDir('sv-moto-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(config, `version: 1\n${yaml}\nonChange:\n  debounce: 50ms\n  stopTimeout: 2s\nstartup:\n  timeout: ${startupTimeout}\n`);
  const script = join(dir, 'print-env.mjs');
  writeFileSync(script, PRINT_ENV_CHILD);
  const envFile = join(dir, 'child-env.json');
  return { dir, config, envFile, child: [process.execPath, script, envFile] };
}

/** Starts `secretvisor run` on the workspace's child; it is discarded after the test (see RunningCli). */
export function startRun(ws: Workspace, env: NodeJS.ProcessEnv, args: readonly string[] = []): RunningCli {
  return startCli(['run', '-c', ws.config, ...args, '--', ...ws.child], { cwd: ws.dir, env });
}

/** How many times the child has started so far. */
export function starts(cli: RunningCli): number {
  return cli.stdout.match(/child-ready \d+/g)?.length ?? 0;
}

/** Waits for the child's `count`-th start. */
export async function waitForStarts(cli: RunningCli, count: number, timeoutMs = 30_000): Promise<void> {
  await cli.waitFor((c) => starts(c) >= count, `child start number ${count}`, timeoutMs);
}

/** The environment the child last recorded. */
export function childEnv(ws: Workspace): Record<string, string> {
  return JSON.parse(readFileSync(ws.envFile, 'utf8')) as Record<string, string>;
}
