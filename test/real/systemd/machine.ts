import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '../../helpers/poll-until.js';

/** A host folder or file made visible inside the machine. */
export interface Bind {
  readonly host: string;
  readonly container: string;
  /** A read-write bind; read-only when absent. */
  readonly writable?: boolean;
}

/** Options of {@link bootMachine}. */
export interface MachineOptions {
  /** The pristine rootfs; the machine writes only to a tmpfs overlay on top of it. */
  readonly rootfs: string;
  /** Unique per run: names the machine and its cgroup folders. */
  readonly name: string;
  /** Host paths to bind into the machine (the host's node, the installed product, the checkout). */
  readonly binds: readonly Bind[];
  readonly bootTimeoutMs?: number;
}

/** How a command run inside the machine ended. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

// The hierarchies nspawn creates folders in on this host (hybrid cgroups: name=systemd v1 and the v2 one).
const CGROUP_ROOTS = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'];
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A systemd booted in systemd-nspawn, with the means to run commands in it and to tear it down. */
export interface Machine {
  /** Runs a program inside the container (all its namespaces), as root, with a clean environment. */
  readonly run: (argv: readonly string[], options?: { input?: string; timeoutMs?: number }) => Promise<RunResult>;
  /** Like run, but throws with the command, exit code and output unless it exits 0; returns stdout. */
  readonly ok: (argv: readonly string[], options?: { input?: string; timeoutMs?: number }) => Promise<string>;
  /** Runs `sh -c script` inside, throwing unless it exits 0; returns stdout. */
  readonly sh: (script: string, options?: { input?: string; timeoutMs?: number }) => Promise<string>;
  /** Powers the machine off (SIGKILLs what is left after a bound) and removes its cgroup folders; never throws. */
  readonly dispose: () => Promise<string[]>;
  /** The console output so far (boot messages), for failure reports. */
  readonly console: () => string;
}

/**
 * Boots `rootfs` with systemd-nspawn as PID 1 of a new container and waits until systemd reports
 * `running` or `degraded`. `--register=no --keep-unit`: there is no host systemd or machined to talk to.
 * nspawn runs in cgroup folders of its own (named after the machine), so two runs never share the
 * payload/supervisor folders it creates and teardown knows exactly what to remove and kill.
 */
export async function bootMachine(options: MachineOptions): Promise<Machine> {
  const cgroups = CGROUP_ROOTS.filter((root) => existsSync(join(root, 'cgroup.procs'))).map((root) => join(root, `secretvisor-test-${options.name}`));
  for (const dir of cgroups) mkdirSync(dir, { recursive: true });
  const args = [
    '-b',
    '-D',
    options.rootfs,
    '--volatile=overlay',
    '--register=no',
    '--keep-unit',
    '--private-network',
    '--console=read-only',
    `--machine=${options.name}`,
    ...options.binds.map((bind) => `--bind${bind.writable === true ? '' : '-ro'}=${bind.host}:${bind.container}`),
  ];
  const joinCgroups = cgroups.map((dir) => `echo $$ > ${dir}/cgroup.procs`).join(' && ');
  const nspawn = spawn('sh', ['-c', `${joinCgroups} && exec systemd-nspawn "$@"`, 'sh', ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH },
  });
  let output = '';
  nspawn.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  nspawn.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(nspawn, 'close');
  let alive = true;
  void exited.then(() => (alive = false));

  const machine = makeMachine(
    nspawn,
    () => alive,
    exited,
    cgroups,
    () => output,
  );
  try {
    const deadline = Date.now() + (options.bootTimeoutMs ?? 120_000);
    const pid1 = await waitUntil(
      () => containerInit(nspawn.pid as number),
      deadline,
      () => alive,
      'the container to start its systemd',
      () => output,
    );
    machine.setInit(pid1);
    let state = '';
    await waitUntil(
      async () => {
        state = (await machine.run(['systemctl', 'is-system-running'], { timeoutMs: 10_000 })).stdout.trim();
        return state === 'running' || state === 'degraded' ? state : undefined;
      },
      deadline,
      () => alive,
      'systemd to reach running (systemctl is-system-running)',
      () => `last state: ${state}\n${output}`,
    );
    return machine;
  } catch (error) {
    await machine.dispose();
    throw error;
  }
}

function makeMachine(nspawn: ChildProcess, isAlive: () => boolean, exited: Promise<unknown>, cgroups: readonly string[], output: () => string): Machine & { setInit: (pid: number) => void } {
  let init: number | undefined;
  const run: Machine['run'] = (argv, runOptions = {}) => {
    if (init === undefined || !isAlive()) return Promise.reject(new Error(`the machine is not running; cannot run ${argv.join(' ')}\n${output()}`));
    const nsenter = ['-t', String(init), '-m', '-u', '-i', '-n', '-p', '-C', '--root', '--wd', '--', 'env', '-i', `PATH=${PATH}`, 'SYSTEMD_PAGER=', 'SYSTEMD_COLORS=0', 'LANG=C.UTF-8', ...argv];
    return runProgram('nsenter', nsenter, runOptions.input, runOptions.timeoutMs ?? 60_000, argv.join(' '));
  };
  const ok: Machine['ok'] = async (argv, runOptions) => {
    const result = await run(argv, runOptions);
    if (result.code !== 0) throw new Error(`inside the machine, \`${argv.join(' ')}\` exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    return result.stdout;
  };
  return {
    setInit: (pid) => (init = pid),
    run,
    ok,
    sh: (script, runOptions) => ok(['sh', '-c', script], runOptions),
    console: output,
    dispose: async () => {
      const problems: string[] = [];
      if (isAlive() && init !== undefined) {
        const result = await run(['systemctl', 'poweroff'], { timeoutMs: 30_000 }).catch((error: Error) => ({ code: -1, stdout: '', stderr: error.message }));
        if (result.code !== 0) problems.push(`systemctl poweroff exited ${result.code}: ${result.stderr.trim()}`);
      }
      const poweredOff = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 60_000))]);
      if (!poweredOff) {
        problems.push('the machine did not power off within 60 s: SIGKILLed it');
        killGroup(nspawn.pid as number);
      }
      // Whatever is left in this machine's cgroup folders belongs to it alone: end it, then remove the folders.
      for (const dir of cgroups) killAll(dir);
      await exited;
      for (const dir of cgroups) problems.push(...removeTree(dir));
      return problems;
    },
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function killAll(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) killAll(join(dir, entry.name));
  for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Removes a cgroup folder and every folder below it, deepest first; returns what could not be removed. */
function removeTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const problems: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) problems.push(...removeTree(join(dir, entry.name)));
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return problems;
    } catch (error) {
      // A killed process leaves its cgroup a moment after it died.
      if (attempt >= 100) return [...problems, `could not remove cgroup folder ${dir}: ${(error as Error).message}`];
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

/** The container's PID 1 (systemd): the child of the nspawn process, once it runs systemd. */
function containerInit(nspawnPid: number): number | undefined {
  let children: string;
  try {
    children = readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8');
  } catch {
    return undefined;
  }
  for (const pid of children.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd') return pid;
    } catch {
      // Exited meanwhile.
    }
  }
  return undefined;
}

/** {@link pollUntil} until the boot's `deadline`, given up once systemd-nspawn has exited. */
function waitUntil<T>(probe: () => T | undefined | Promise<T | undefined>, deadline: number, alive: () => boolean, what: string, detail: () => string): Promise<T> {
  return pollUntil(probe, what, { timeoutMs: deadline - Date.now(), intervalMs: 100, giveUp: () => (alive() ? undefined : 'systemd-nspawn exited'), detail });
}

function runProgram(program: string, args: readonly string[], input: string | undefined, timeoutMs: number, what: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`inside the machine, \`${what}\` did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) {
      // A program that exits without reading its input is not an error of the test's.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    }
  });
}

/** Writes a file inside the machine (through its root, as root) with the given mode. */
export async function writeInside(machine: Machine, path: string, content: string, mode: string): Promise<void> {
  await machine.ok(['sh', '-c', 'umask 077 && cat > "$1.tmp" && chmod "$2" "$1.tmp" && mv -f "$1.tmp" "$1"', 'sh', path, mode], { input: content });
}
