import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandResult, mustRun, runCommand } from './exec.js';

/** The host's hard limit of a resource, from /proc/self/limits (podman may not raise a container above it). */
function hardLimit(name: string): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  if (hard === undefined) throw new Error(`containers: no "${name}" line in /proc/self/limits`);
  return hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hard);
}

/**
 * The containers.conf for this host (see /work/shared/notes/real-containers.md): root here lacks
 * CAP_SYS_RESOURCE, so the containers' rlimits must stay below what runc may set instead of podman's
 * nofile=1048576 (nproc at the host's hard limit, 96363, was refused too; 32768 works); crun refuses the
 * hybrid cgroup layout, runc and cgroupfs do not; the journal is not there for events; `--init` runs
 * Debian's catatonit.
 */
function containersConf(): string {
  const nofile = Math.min(hardLimit('Max open files'), 20_000);
  const nproc = Math.min(hardLimit('Max processes'), 32_768);
  return [
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
    'init_path = "/usr/bin/catatonit"',
    '',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    '',
  ].join('\n');
}

const STATE_PREFIX = 'sv-podman-';
const OWNER_FILE = 'owner.pid';

/** The pid of the run that made a state folder, or undefined while (or if) it has not written it yet. */
function ownerOf(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, OWNER_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Rootful podman with all of its state (images, containers, run and temporary files) in one folder of its own. */
export class Podman {
  readonly dir: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #names: string[] = [];

  private constructor(dir: string) {
    this.dir = dir;
    if (!existsSync(join(dir, 'containers.conf'))) writeFileSync(join(dir, 'containers.conf'), containersConf());
    this.#env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  }

  /**
   * A podman whose state lives in a fresh temporary folder, removed by {@link destroy}. The state a run
   * killed before its clean-up left behind (its owner's pid is gone) is destroyed first.
   */
  static async create(): Promise<Podman> {
    for (const entry of readdirSync(tmpdir()).filter((name) => name.startsWith(STATE_PREFIX))) {
      const dir = join(tmpdir(), entry);
      const owner = ownerOf(dir);
      if (owner !== undefined && !existsSync(`/proc/${owner}`)) await new Podman(dir).destroy();
    }
    const dir = mkdtempSync(join(tmpdir(), STATE_PREFIX));
    writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
    return new Podman(dir);
  }

  /** A container name unique to this run, remembered so that {@link destroy} removes the container. */
  containerName(label: string): string {
    const name = `sv-${label}-${randomBytes(4).toString('hex')}`;
    this.#names.push(name);
    return name;
  }

  /** Runs `podman ARGS` against this state; does not throw on a non-zero exit. */
  run(args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
    return runCommand('podman', [...this.#globalArgs(), ...args], { env: this.#env, timeoutMs });
  }

  /** Runs `podman ARGS`, which must succeed. */
  must(args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
    return mustRun('podman', [...this.#globalArgs(), ...args], { env: this.#env, timeoutMs });
  }

  /** `tar -c TAR_ARGS | podman import`: an image from files on the host, with `changes` as Dockerfile instructions. */
  async importTar(tarArgs: readonly string[], image: string, changes: readonly string[]): Promise<void> {
    const podman = ['podman', ...this.#globalArgs(), 'import', ...changes.flatMap((change) => ['--change', change]), '-', image];
    // The first argument counts tar's arguments; the rest is podman's command line. pipefail: either failing fails.
    const script = 'set -o pipefail; n=$1; shift; tar -c "${@:1:n}" | "${@:n+1}" >/dev/null';
    await mustRun('bash', ['-c', script, 'import-tar', String(tarArgs.length), ...tarArgs, ...podman], { env: this.#env, timeoutMs: 10 * 60_000 });
  }

  /**
   * Removes every container this run named, every image and the whole state folder, whatever state they
   * are in; mounts left by a failed run (overlay layers, shm) are unmounted first.
   */
  async destroy(): Promise<void> {
    for (const name of this.#names.splice(0)) await this.run(['rm', '--force', '--time', '0', name], 120_000).catch(() => undefined);
    await this.run(['rm', '--all', '--force', '--time', '0'], 120_000).catch(() => undefined);
    await this.run(['rmi', '--all', '--force'], 120_000).catch(() => undefined);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((point): point is string => point !== undefined && point.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const point of mounts) await runCommand('umount', ['-l', point], { timeoutMs: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }

  #globalArgs(): string[] {
    return ['--root', join(this.dir, 'storage'), '--runroot', join(this.dir, 'run'), '--tmpdir', join(this.dir, 'tmp')];
  }
}
