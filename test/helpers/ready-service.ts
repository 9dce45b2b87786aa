import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnv, startCli, type RunningCli } from './cli.js';
import { makeProject } from './project.js';
import { randomSecret } from './secrets.js';

/** The HTTP service of the readiness and overlap tests; its knobs are described in the file. */
export const READY_SERVICE = fileURLToPath(new URL('../fixtures/ready-service.mjs', import.meta.url));

/**
 * A project for {@link READY_SERVICE}: app.env with a fresh DB_PASSWORD, and
 * a secretvisor.yaml reading it that passes the service its knobs, followed
 * by `config` (the `ready:`, `onChange:` … under test).
 */
export function readyServiceProject(config: string, label = 'ready-db'): string {
  return makeProject({
    'app.env': `DB_PASSWORD=${randomSecret(label)}\n`,
    'secretvisor.yaml': ['version: 1', 'sources:\n  app: { type: dotenv, path: app.env }', 'inherit: [PATH, PORT, LISTEN_DELAY_MS, HTTP_STATUS, STATE_DIR, BAD_MARKER, BAD_MODE]', config].join('\n'),
  });
}

/** `secretvisor run` over {@link READY_SERVICE} in `dir`, logging JSON, with the service's knobs in `env`. */
export function startReadyService(dir: string, env: NodeJS.ProcessEnv = {}): RunningCli {
  return startCli(['run', '-c', join(dir, 'secretvisor.yaml'), '--', process.execPath, READY_SERVICE], { cwd: dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', ...env }) });
}

/** The pid of each service started so far ("started <pid>", printed once its SIGTERM handler is in), in order. */
export function startedPids(cli: RunningCli): number[] {
  return [...cli.stdout.matchAll(/^started (\d+)$/gm)].map((match) => Number(match[1]));
}
