import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { TestRunner, afterAll, afterEach, expect } from 'vitest';
import { pollUntil } from './poll-until.js';
import { isOurZombie, killWithDescendants } from './processes.js';
import { expectNoLeak } from './secrets.js';
// Imported for its clean-up hook: registered first, it runs last (hooks run as a stack), once every CLI has stopped.
import './tmp.js';

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

/** How long a discarded CLI may take to close its output once it was killed. */
const CLOSE_TIMEOUT_MS = 10_000;

// Every CLI is stopped at the end of the test that started it, or of the file when a beforeAll did.
const startedInTest = new Set<RunningCli>();
const startedForFile = new Set<RunningCli>();
afterEach(() => discardAll(startedInTest));
afterAll(() => discardAll(startedForFile));

async function discardAll(clis: Set<RunningCli>): Promise<void> {
  const left = [...clis];
  clis.clear();
  for (const cli of left) await cli.discard();
}

/** A CLI process still running, with its output collected so far. */
export class RunningCli {
  readonly process: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #exited: Promise<CliResult>;

  /** Wraps a process that runs secretvisor (maybe under sh, setpriv, unshare); it is discarded after the test. */
  constructor(child: ChildProcess) {
    this.process = child;
    (TestRunner.getCurrentTest() === undefined ? startedForFile : startedInTest).add(this);
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

  /**
   * Clean-up after a test, whatever the output: SIGKILLs secretvisor if it
   * still runs, with every process below it and their process groups (a
   * child outliving secretvisor would hold its output open), waits until it
   * has closed its output, and checks it was reaped, not left a zombie.
   */
  async discard(): Promise<void> {
    startedInTest.delete(this);
    startedForFile.delete(this);
    if (!this.hasExited && this.process.pid !== undefined) killWithDescendants(this.pid);
    const ended = this.#exited.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([ended.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (!closed) {
      this.process.stdout?.destroy();
      this.process.stderr?.destroy();
      await ended;
    }
    expect(closed, `secretvisor (pid ${this.pid}) ended, but its output was still open ${CLOSE_TIMEOUT_MS} ms later: something it started outlived it; end that in the test's own clean-up`).toBe(true);
    expect(isOurZombie(this.pid), `secretvisor (pid ${this.pid}) was left a zombie`).toBe(false);
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
export async function runCli(args: readonly string[], options: CliOptions & { allowSecretsOnStdout?: boolean } = {}): Promise<CliResult> {
  const cli = startCli(args, options);
  const timer = setTimeout(() => cli.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  try {
    return await cli.exited({ allowSecretsOnStdout: options.allowSecretsOnStdout });
  } finally {
    clearTimeout(timer);
  }
}
