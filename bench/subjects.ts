import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandSpec } from './measure-process.js';

/** The repository root (bench/run.mjs runs the bench from there). */
export const ROOT = process.cwd();

/** The built CLI, as `npm run build` leaves it; BENCH_CLI measures another build (for comparing two). */
export const CLI = process.env.BENCH_CLI ?? join(ROOT, 'dist', 'secretvisor.cjs');

/** dotenv-cli's entry, run with the same node as everything else (not through its `#!/usr/bin/env node`). */
export const DOTENV_CLI = join(ROOT, 'node_modules', 'dotenv-cli', 'cli.js');

/** The trivial child every start-up figure runs. */
export const TRUE = existsSync('/bin/true') ? '/bin/true' : '/usr/bin/true';

/** What every measured process gets: enough to run, nothing of the bench's own environment. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', ...extra };
}

/** `secretvisor ARGS...` run in `cwd`. */
export function secretvisor(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = baseEnv()): CommandSpec {
  return { argv: [process.execPath, CLI, ...args], cwd, env };
}

/** `node -e 0`: the floor of any Node tool. */
export function nodeNoop(cwd: string): CommandSpec {
  return { argv: [process.execPath, '-e', '0'], cwd, env: baseEnv() };
}

/** `dotenv -- COMMAND...` reading `.env` in `cwd`. */
export function dotenvCli(cwd: string, command: readonly string[]): CommandSpec {
  return { argv: [process.execPath, DOTENV_CLI, '--', ...command], cwd, env: baseEnv() };
}
