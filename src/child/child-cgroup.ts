import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sleepOn, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { errnoOf } from '../lib/errno.js';

/**
 * A cgroup (v2) holding one child and everything it starts. A grandchild
 * can leave the child's process group with `setsid`; it cannot leave its
 * cgroup, so ending the cgroup ends it too.
 */
export interface ChildCgroup {
  readonly path: string;
  /** Pids that still run in it (the kernel lists no zombies in cgroup.procs). */
  members(): number[];
  /** Sends `signal` to every process in it but those `reached` says already got it. */
  signal(signal: NodeJS.Signals, reached?: (pid: number) => boolean): void;
  /** SIGKILLs everything in it (`cgroup.kill`, else pid by pid) until it is empty (or 5 s on `clock` have passed), then removes it. */
  kill(clock: Clock): Promise<void>;
  /** Removes it once empty; false while something still runs in it. */
  remove(): boolean;
}

/** Where children's cgroups go, once secretvisor found it may make them. */
interface Domain {
  /** secretvisor's own cgroup when it started. */
  readonly home: string;
  /** The folder children's cgroups are made in: `home`, or a fresh one when `home` is the hierarchy's root. */
  readonly base: string;
  /** The leaf secretvisor moves itself into, so that it is no internal process of `base`. */
  readonly leaf: string;
  readonly createdBase: boolean;
}

const POLL_MS = 20;
const KILL_WAIT_MS = 5_000;

let domain: Domain | undefined | null;
let counter = 0;

/**
 * Runs `spawn` so that the process it forks starts in a new cgroup of its
 * own, and returns that cgroup (undefined where cgroups cannot be used, the
 * reason logged once at debug). secretvisor moves itself into the new cgroup
 * for the moment of the fork and back right after: a process placed there
 * after it started could already have forked a grandchild outside it.
 */
export function spawnInCgroup<T>(log: Logger | undefined, spawn: () => T): { readonly spawned: T; readonly cgroup: ChildCgroup | undefined } {
  const found = findDomain(log);
  if (found === undefined) return { spawned: spawn(), cgroup: undefined };
  counter += 1;
  const path = join(found.base, `child-${process.pid}-${counter}`);
  try {
    mkdirSync(path);
    writeFileSync(join(path, 'cgroup.procs'), String(process.pid));
  } catch (error) {
    tryRemove(path);
    log?.debug({ cgroup: path, error: describe(error) }, 'no cgroup for this child: it runs in a process group only');
    return { spawned: spawn(), cgroup: undefined };
  }
  let spawned: T;
  try {
    spawned = spawn();
  } finally {
    writeFileSync(join(found.leaf, 'cgroup.procs'), String(process.pid));
  }
  return { spawned, cgroup: openCgroup(path) };
}

function openCgroup(path: string): ChildCgroup {
  const members = (): number[] => {
    try {
      return readFileSync(join(path, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map(Number);
    } catch {
      return [];
    }
  };
  const signalAll = (signal: NodeJS.Signals, reached: (pid: number) => boolean = () => false): void => {
    for (const pid of members()) {
      if (reached(pid)) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // Gone between the listing and the signal.
      }
    }
  };
  const remove = (): boolean => members().length === 0 && tryRemove(path);
  return {
    path,
    members,
    signal: signalAll,
    remove,
    async kill(clock) {
      const killFile = join(path, 'cgroup.kill');
      const deadline = clock.now() + KILL_WAIT_MS;
      while (members().length > 0 && clock.now() < deadline) {
        // cgroup.kill (Linux 5.14) also catches what forks meanwhile; pid by pid, the loop does.
        if (existsSync(killFile)) writeFileSync(killFile, '1');
        else signalAll('SIGKILL');
        await sleepOn(clock, POLL_MS);
      }
      remove();
    },
  };
}

/** Finds, once, where children's cgroups can go; null (and one debug line) where they cannot. */
function findDomain(log: Logger | undefined): Domain | undefined {
  if (domain === undefined) {
    const found = prepareDomain();
    if (typeof found === 'string') {
      log?.debug({ reason: found }, `children run without a cgroup of their own (${found}): a grandchild that calls setsid can outlive a stop`);
      domain = null;
    } else {
      domain = found;
      process.once('exit', () => leaveDomain(found));
    }
  }
  return domain ?? undefined;
}

function prepareDomain(): Domain | string {
  const mount = cgroup2Mount();
  if (mount === undefined) return 'no cgroup v2 hierarchy is mounted';
  const own = ownCgroup();
  if (own === undefined) return 'this process is in no cgroup v2 group';
  const home = join(mount, own);
  const atRoot = own === '/';
  if (atRoot) removeStaleDomains(home);
  const base = atRoot ? join(home, `secretvisor-${process.pid}-${randomBytes(4).toString('hex')}`) : home;
  const leaf = join(base, 'supervisor');
  try {
    if (atRoot) mkdirSync(base);
    mkdirSync(leaf, { recursive: true });
    writeFileSync(join(leaf, 'cgroup.procs'), String(process.pid));
  } catch (error) {
    tryRemove(leaf);
    if (atRoot) tryRemove(base);
    return `cannot make cgroups under ${home}: ${describe(error)}; under systemd, set Delegate=yes and leave out ProtectControlGroups=`;
  }
  return { home, base, leaf, createdBase: atRoot };
}

// At exit secretvisor goes back where it came from and leaves no empty cgroup of its own behind.
function leaveDomain(found: Domain): void {
  try {
    writeFileSync(join(found.home, 'cgroup.procs'), String(process.pid));
  } catch {
    return;
  }
  tryRemove(found.leaf);
  if (found.createdBase) tryRemove(found.base);
}

const DOMAIN_NAME = /^secretvisor-(\d+)-[0-9a-f]{8}$/;

/**
 * Removes what a secretvisor killed with SIGKILL left at the root: its
 * folders, once nothing runs in them. Another secretvisor's, still running,
 * are left alone.
 */
function removeStaleDomains(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const match = DOMAIN_NAME.exec(name);
    if (match === null || existsSync(`/proc/${match[1]}`)) continue;
    const base = join(root, name);
    try {
      const inner = readdirSync(base, { withFileTypes: true }).filter((entry) => entry.isDirectory());
      if (inner.every((entry) => tryRemove(join(base, entry.name)))) tryRemove(base);
    } catch {
      // Another secretvisor starting at the same moment removed it first.
    }
  }
}

function cgroup2Mount(): string | undefined {
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [before, after] = line.split(' - ');
      if (after?.split(' ')[0] !== 'cgroup2' || before === undefined) continue;
      const fields = before.split(' ');
      // Only a mount of the whole (namespace's) hierarchy maps /proc/self/cgroup paths to folders.
      if (fields[3] === '/') return fields[4];
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function ownCgroup(): string | undefined {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('0::'));
    return line?.slice(3);
  } catch {
    return undefined;
  }
}

function tryRemove(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch (error) {
    return errnoOf(error) === 'ENOENT';
  }
}

function describe(error: unknown): string {
  const failure = error as NodeJS.ErrnoException;
  return failure.code ?? failure.message ?? String(error);
}
