import { once } from 'node:events';
import { execa } from 'execa';
import { sleepOn, systemClock, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { SecretValue } from '../secret-value.js';
import { spawnInCgroup, type ChildCgroup } from './child-cgroup.js';
import type { ChildExit } from './exit-code.js';
import { liveMembers, processGroupOf, signalGroup, waitForGroupGone } from './process-group.js';

/** Everything needed to start the child; it knows nothing of secrets or sources. */
export interface ChildSpec {
  /** Absolute path of the program. */
  readonly file: string;
  readonly args: readonly string[];
  readonly env: ReadonlyMap<string, SecretValue>;
  /**
   * Start the child as the leader of its own process group, so stop and kill
   * reach its grandchildren. Off when it must share the terminal's foreground group.
   */
  readonly ownGroup: boolean;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  /** Descriptors of secretvisor to give the child as its fd 3, 4, … (held sockets). */
  readonly inheritedFds?: readonly number[] | undefined;
  /** Where to say, once, why children get no cgroup of their own. */
  readonly log?: Logger | undefined;
  /** The child is a wrapper (tini) that passes every signal on to its service: it alone is signalled. */
  readonly forwardsSignals?: boolean | undefined;
  /** The clock a stop's timeout and its waits for the group and cgroup run on. */
  readonly clock?: Clock | undefined;
}

/** How a stop should go. */
export interface StopOptions {
  /** Sent first; undefined when the child already has it (Ctrl-C reached the whole terminal group). */
  readonly signal: NodeJS.Signals | undefined;
  readonly timeoutMs: number;
  /** Told the pids still running just before they get SIGKILL, when the timeout ran out. */
  readonly onEscalate?: ((pids: readonly number[]) => void) | undefined;
}

/** A started child. */
export interface RunningChild {
  readonly pid: number | undefined;
  /** Resolves once the program runs; resolves false when it could not be started. */
  readonly started: Promise<boolean>;
  /** Resolves when the child (the group leader) has exited. */
  readonly exited: Promise<ChildExit>;
  /**
   * Sends a signal to the child (to its whole group when it leads one).
   * Reload and forwarded signals are for the service, not for what escaped
   * its group: the stop signal alone reaches all of its cgroup.
   */
  signal(signal: NodeJS.Signals): void;
  /** What still runs of the child's group and cgroup (the child itself included while it runs). */
  leftovers(): number[];
  /**
   * Sends the stop signal, waits up to the timeout for the child, its group
   * and its cgroup to end, then SIGKILLs them and waits until no process of
   * them is left; the cgroup is then removed. Idempotent: a second call
   * joins the first.
   */
  stop(options: StopOptions): Promise<ChildExit>;
}

// After SIGKILL the kernel needs a moment to tear the group down.
const AFTER_KILL_WAIT_MS = 5_000;
// The kernel's cgroup.events can be watched, but a stop is short: polling then is simpler.
const CGROUP_POLL_MS = 20;

// execa's types list only fds 3–9 as numbers, but it hands any open descriptor to Node's spawn as it is.
type ExtraFd = 3;

function stdioOf(fds: readonly number[] | undefined): 'inherit' | ['inherit', 'inherit', 'inherit', ...ExtraFd[]] {
  return fds === undefined || fds.length === 0 ? 'inherit' : ['inherit', 'inherit', 'inherit', ...(fds as readonly ExtraFd[])];
}

/** Starts the child with exactly `spec.env` (nothing merged in), its output inherited. */
export function startChild(spec: ChildSpec): RunningChild {
  const clock = spec.clock ?? systemClock;
  const env = Object.fromEntries([...spec.env].map(([name, value]) => [name, value.reveal()]));
  const { spawned: subprocess, cgroup } = spawnInCgroup(spec.log, () =>
    execa(spec.file, [...spec.args], {
      env,
      extendEnv: false,
      stdio: stdioOf(spec.inheritedFds),
      detached: spec.ownGroup,
      reject: false,
      cleanup: false,
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    }),
  );
  const pid = subprocess.pid;
  const started = Promise.race([once(subprocess, 'spawn').then(() => true), once(subprocess, 'error').then(() => false)]).catch(() => false);
  const exited: Promise<ChildExit> = subprocess.then((result) => ({
    code: result.exitCode ?? null,
    signal: (result.signal as NodeJS.Signals | undefined) ?? null,
    spawnError: pid === undefined ? String((result as { code?: unknown }).code ?? 'ENOENT') : undefined,
  }));
  let exitedYet = false;
  // A child that leaves nothing behind takes its cgroup with it; leftovers are ended (and the cgroup removed) by stop().
  void exited.then(() => {
    exitedYet = true;
    cgroup?.remove();
  });

  const signal = (name: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      if (spec.ownGroup) signalGroup(pid, name);
      else if (!exitedYet) process.kill(pid, name);
    } catch {
      // The child is gone or not ours any more: nothing to signal.
    }
  };

  /**
   * The child (group), then what left the group but not the cgroup. A
   * process gets each signal once: a wrapper's service gets it from the
   * wrapper, so then the cgroup is left to the final kill.
   */
  const signalAll = (name: NodeJS.Signals): void => {
    signal(name);
    if (spec.forwardsSignals === true && name !== 'SIGKILL') return;
    cgroup?.signal(name, (member) => (spec.ownGroup ? processGroupOf(member) === pid : member === pid));
  };

  const leftovers = (): number[] => {
    const inGroup = spec.ownGroup && pid !== undefined ? (liveMembers(pid) ?? []) : [];
    return [...new Set([...inGroup, ...(cgroup?.members() ?? [])])];
  };

  let stopping: Promise<ChildExit> | undefined;
  const stop = (options: StopOptions): Promise<ChildExit> => {
    stopping ??= (async () => {
      if (pid === undefined) return exited;
      if (options.signal !== undefined) signalAll(options.signal);
      const deadline = clock.now() + options.timeoutMs;
      let timeout: unknown;
      const inTime = await Promise.race([exited.then(() => true), new Promise<false>((resolve) => (timeout = clock.setTimeout(() => resolve(false), options.timeoutMs, { keepAlive: false })))]);
      clock.clearTimeout(timeout);
      const groupGone = spec.ownGroup ? inTime && (await waitForGroupGone(pid, { timeoutMs: Math.max(0, deadline - clock.now()), clock })) : inTime;
      const allGone = groupGone && (cgroup === undefined || (await waitForCgroupEmpty(cgroup, { deadline, clock })));
      if (!allGone) {
        const running = spec.ownGroup || cgroup !== undefined ? leftovers() : exitedYet ? [] : [pid];
        options.onEscalate?.(running.length === 0 ? [pid] : running);
        signalAll('SIGKILL');
        if (spec.ownGroup) await waitForGroupGone(pid, { timeoutMs: AFTER_KILL_WAIT_MS, clock });
      }
      await cgroup?.kill(clock);
      return exited;
    })();
    return stopping;
  };

  return { pid, started, exited, signal, leftovers, stop };
}

async function waitForCgroupEmpty(cgroup: ChildCgroup, { deadline, clock }: { readonly deadline: number; readonly clock: Clock }): Promise<boolean> {
  while (cgroup.members().length > 0) {
    if (clock.now() >= deadline) return false;
    await sleepOn(clock, CGROUP_POLL_MS);
  }
  return true;
}
