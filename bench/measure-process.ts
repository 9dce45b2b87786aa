import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A command to run: argv and where. */
export interface CommandSpec {
  readonly argv: readonly [string, ...string[]];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** GNU time, which reports the peak RSS (ru_maxrss) of what it runs. */
export const GNU_TIME = '/usr/bin/time';
export const HAVE_GNU_TIME = existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;

/**
 * Runs a command to its end with its output discarded; resolves with the
 * wall time from spawn to exit, in ms. A failure is run again with stderr
 * kept, for the error message.
 */
export async function timeCommand(spec: CommandSpec): Promise<number> {
  const { ms, code } = await runOnce(spec, 'ignore');
  if (code === 0) return ms;
  const again = await runOnce(spec, 'pipe');
  throw new Error(`${spec.argv.join(' ')} (in ${spec.cwd}) ended with ${code}:\n${again.stderr.slice(-2_000)}`);
}

function runOnce(spec: CommandSpec, stderr: 'ignore' | 'pipe'): Promise<{ ms: number; code: number | string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const started = process.hrtime.bigint();
    const child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'ignore', stderr] });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code: code ?? signal ?? 'unknown', stderr: text }));
  });
}

/**
 * The peak resident set of a command, in KiB, by GNU time: ru_maxrss from
 * wait4(), the larger of the process's own peak and that of the children it
 * reaped. With /bin/true as the child (about 1 MB) that is the process's own.
 */
export async function peakRssKb(spec: CommandSpec): Promise<number | undefined> {
  if (!HAVE_GNU_TIME) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sv-bench-time-'));
  try {
    const out = join(dir, 'rss');
    await timeCommand({ ...spec, argv: [GNU_TIME, '-f', '%M', '-o', out, ...spec.argv] });
    return Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** VmHWM (peak resident set so far) and VmRSS of a live process, in KiB, from /proc. */
export function memoryOf(pid: number): { readonly peakKb: number; readonly rssKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { peakKb: field('VmHWM'), rssKb: field('VmRSS') };
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system, all threads, not children) a live process has used so far, in ms, from /proc/PID/stat. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** The pids of a process's direct children. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A long-running process with its output split into lines, waited on by content. */
export class LiveProcess {
  readonly child: ChildProcess;
  readonly lines: { readonly stream: 'stdout' | 'stderr'; readonly text: string; readonly at: number }[] = [];
  readonly #waiters = new Set<() => void>();
  #exited = false;

  constructor(spec: CommandSpec) {
    // Its own process group, so that stop() reaches the service it started too.
    this.child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    for (const stream of ['stdout', 'stderr'] as const) {
      let rest = '';
      this.child[stream]?.setEncoding('utf8').on('data', (chunk: string) => {
        const at = performance.now();
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const text of parts) this.lines.push({ stream, text, at });
        for (const wake of this.#waiters) wake();
      });
    }
    this.child.once('exit', () => {
      this.#exited = true;
      for (const wake of this.#waiters) wake();
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Resolves with the time (performance.now) of the first line from index `from` on that matches; rejects on exit or timeout. */
  waitForLine(match: (text: string) => boolean, what: string, options: { from?: number; timeoutMs?: number } = {}): Promise<number> {
    const from = options.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = this.lines.slice(from).find((entry) => match(entry.text));
        if (line !== undefined) {
          done();
          resolve(line.at);
          return true;
        }
        if (this.#exited) {
          done();
          reject(new Error(`process ended before ${what}:\n${this.tail()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${what}:\n${this.tail()}`));
      }, options.timeoutMs ?? 30_000);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
      };
      const wake = (): void => void check();
      if (!check()) this.#waiters.add(wake);
    });
  }

  /** The last lines of output, for error messages. */
  tail(count = 15): string {
    return this.lines
      .slice(-count)
      .map((line) => `  ${line.stream}: ${line.text}`)
      .join('\n');
  }

  /** Sends SIGTERM to the whole group and waits for the leader to exit (SIGKILL after 10 s). */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      process.kill(-this.pid, 'SIGTERM');
    } catch {
      return;
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 10_000);
    await exited;
    clearTimeout(killer);
  }
}
