import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { pollUntil } from './poll-until.js';
import { expectNoLeak } from './secrets.js';

/** The built CLI under test (`npm test` builds it first). */
export const CLI = fileURLToPath(new URL('../../dist/secretvisor.cjs', import.meta.url));

/** Options of {@link runCli} and {@link startCli}. */
export interface CliOptions {
  readonly cwd?: string;
  /** The whole environment of secretvisor (nothing is inherited unless you spread process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** What a finished CLI run printed and how it ended. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment tests give secretvisor by default: enough to run, nothing secret. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', ...extra };
}

/** A CLI process still running, with its output collected so far. */
export class RunningCli {
  readonly process: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #exited: Promise<CliResult>;

  constructor(child: ChildProcess) {
    this.process = child;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.#exited = once(child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      stdout: this.stdout,
      stderr: this.stderr,
    }));
  }

  get pid(): number {
    return this.process.pid as number;
  }

  /** Whether secretvisor has exited. */
  get hasExited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /** Resolves when `predicate` holds for the output so far; rejects after `timeoutMs`, or once secretvisor exited, with the output attached. */
  async waitFor(predicate: (cli: RunningCli) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    await pollUntil(() => predicate(this), what, {
      timeoutMs,
      giveUp: () => (this.hasExited ? 'secretvisor exited' : undefined),
      detail: () => `stdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
    });
  }

  /** Waits until stdout contains `text`. */
  waitForStdout(text: string, timeoutMs?: number): Promise<void> {
    return this.waitFor((cli) => cli.stdout.includes(text), `stdout to contain ${JSON.stringify(text)}`, timeoutMs);
  }

  /** Waits until stderr contains `text`. */
  waitForStderr(text: string, timeoutMs?: number): Promise<void> {
    return this.waitFor((cli) => cli.stderr.includes(text), `stderr to contain ${JSON.stringify(text)}`, timeoutMs);
  }

  /** Waits until `count` children have printed "ready <pid>" (record-env's line, once its handlers are in). */
  waitForReadyChildren(count: number, what = `child ${count} to be ready`): Promise<void> {
    return this.waitFor((cli) => (cli.stdout.match(/^ready \d+$/gm)?.length ?? 0) >= count, what);
  }

  /** Sends a signal to secretvisor itself. */
  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  /** Clean-up after a test: SIGKILLs secretvisor if it still runs and waits for it, whatever its output. */
  async discard(): Promise<void> {
    if (!this.hasExited) this.kill('SIGKILL');
    await this.exited().catch(() => undefined);
  }

  /** Resolves when secretvisor exits, checking that no issued secret leaked into its output. */
  async exited(options: { allowSecretsOnStdout?: boolean } = {}): Promise<CliResult> {
    const result = await this.#exited;
    expectNoLeak(result.stderr, 'secretvisor stderr');
    if (options.allowSecretsOnStdout !== true) expectNoLeak(result.stdout, 'secretvisor stdout');
    return result;
  }
}

/** Starts the CLI and returns at once; pair with `exited()`. */
export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: options.env ?? baseEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  return new RunningCli(child);
}

/** Runs the CLI to completion and checks no issued secret leaked (stdout may be allowed for `env --reveal`). */
export async function runCli(
  args: readonly string[],
  options: CliOptions & { allowSecretsOnStdout?: boolean } = {},
): Promise<CliResult> {
  const cli = startCli(args, options);
  const timer = setTimeout(() => cli.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  try {
    return await cli.exited({ allowSecretsOnStdout: options.allowSecretsOnStdout });
  } finally {
    clearTimeout(timer);
  }
}
