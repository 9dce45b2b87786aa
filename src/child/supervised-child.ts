import { systemClock, sleepOn, type Clock } from '../clock.js';
import { ExitCode } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffDelay, jitter } from '../watch/backoff.js';
import { describeExit, exitCodeOf, type ChildExit } from './exit-code.js';
import { OverlapRotation } from './overlap-rotation.js';
import type { Command } from './pid1.js';
import { ReadyGate } from './ready-gate.js';
import { RELOAD_SIGNALS, sendReloadSignal, type PendingReload, type ReloadReason } from './reload-signal.js';
import { startChild, type ChildSpec, type RunningChild, type StopOptions } from './start-child.js';
import type { ChildChange, ChildEvent, ChildInput, ChildPolicy, ExitReason, StartReason } from './child-events.js';
import type { Probe } from './readiness.js';

/** Everything a {@link SupervisedChild} needs; side effects that tests replace come in here. */
export interface SupervisedChildOptions {
  /** The program, already resolved (and wrapped for PID 1 where needed). */
  readonly command: Command;
  /** Start the child as leader of its own process group (false when it shares a terminal). */
  readonly ownGroup: boolean;
  /** The user the child runs as, when secretvisor is root. */
  readonly childUser?: { readonly uid: number; readonly gid: number } | undefined;
  /** Held sockets: secretvisor's descriptors that become each child's fd 3, 4, … (see src/listen/). */
  readonly inheritedFds?: readonly number[] | undefined;
  readonly policy: ChildPolicy;
  readonly log: Logger;
  /** Called once when the child ended and is not restarted: secretvisor ends with its exit. */
  readonly onFinalExit: (exit: ChildExit) => void;
  /** The event hook: see {@link ChildEvent}. */
  readonly onEvent?: ((event: ChildEvent) => void) | undefined;
  /** Starts a process; {@link startChild} unless a test passes a fake. */
  readonly spawn?: ((spec: ChildSpec) => RunningChild) | undefined;
  readonly clock?: Clock | undefined;
  /** Tries the readiness check once; the real probe unless a test passes a fake. */
  readonly probe?: Probe | undefined;
}

// A child that stayed up this long is healthy again: its next crash restarts quickly.
const HEALTHY_AFTER_MS = 10_000;
const CRASH_BACKOFF = { initialMs: 500, maxMs: 60_000 };

/**
 * One supervised child over its whole life: start, readiness, restart for
 * new secrets (splay, then by `strategy`: restart stops the old one
 * completely before the new one starts; overlap, in {@link OverlapRotation},
 * starts the new one beside it), reload signals that wait for a starting
 * child's handler, restart after a crash with growing backoff, and stop.
 * Starts and restarts run one after the other, so there is one child, two
 * only during an overlap, and nothing starts once a stop was asked for. A
 * child not ready in time is handled like a crash. A stop secretvisor asked
 * for is never reported as a crash.
 */
export class SupervisedChild {
  readonly #options: SupervisedChildOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #spawn: (spec: ChildSpec) => RunningChild;
  readonly #gate: ReadyGate;
  readonly #overlap: OverlapRotation;
  #input: ChildInput | undefined;
  #current: RunningChild | undefined;
  /** The old child while a restart stops it. */
  #outgoing: RunningChild | undefined;
  /** A child stopped because it was not ready in time: its end is a crash, or exit 69. */
  #notReady: RunningChild | undefined;
  #startedAt = 0;
  #crashes = 0;
  /** The restart after a crash while it waits out its backoff. */
  #crashRestart: unknown;
  #crashRestartReason: StartReason = 'crash';
  /** Starts and restarts, one after the other. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #pendingReloads = new Map<NodeJS.Signals, PendingReload>();
  /** Aborted by stop: ends a splay wait at once. */
  readonly #stopAsked = new AbortController();
  #stopped: Promise<ChildExit | undefined> | undefined;
  #lastExit: ChildExit | undefined;
  /** Ending what a child that exited by itself left in its group. */
  #leftovers: Promise<void> | undefined;

  constructor(options: SupervisedChildOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    this.#spawn = options.spawn ?? startChild;
    const emit = (event: ChildEvent): void => this.#emit(event);
    const stopAsked = this.#stopAsked.signal;
    this.#gate = new ReadyGate({ ready: options.policy.ready, childUser: options.childUser, log: this.#log, clock: this.#clock, probe: options.probe, stopAsked, emit });
    this.#overlap = new OverlapRotation({
      log: this.#log,
      clock: this.#clock,
      gate: this.#gate,
      stopAsked,
      serving: () => this.#current,
      spawn: (input) => this.#spawnChild(input),
      started: (child, input, reason) => this.#started(child, input, reason),
      takeOver: (child, startedAt) => {
        this.#current = child;
        this.#startedAt = startedAt;
      },
      retire: (old) => this.#retire(old),
      stop: (child) => child.stop(this.#stopOptions(this.#options.policy.stopSignal)),
      emit,
    });
  }

  /** The running child's pid (the old one during an overlap); undefined between a crash and its restart, during a restart, and after the end. */
  get pid(): number | undefined {
    return this.#current?.pid;
  }

  /** Whether a child runs, is being stopped by a restart, or is starting beside the old one. */
  get running(): boolean {
    return this.#children().length > 0;
  }

  /** How the last child that secretvisor did not replace ended. */
  get lastExit(): ChildExit | undefined {
    return this.#lastExit;
  }

  /**
   * Starts the first child; resolves true once it runs, false when it could
   * not (or may not) start. Its readiness is awaited after that, in the
   * lifecycle's queue: `child-ready` says when it passed.
   */
  start(input: ChildInput): Promise<boolean> {
    this.#input = input;
    return new Promise((resolve) => {
      const done = (): void => resolve(false);
      this.#enqueue(() => this.#launch('initial', resolve)).then(done, done);
    });
  }

  /**
   * Hands the child new input the way `change.action` says, as
   * consul-template's Reload(): restart it, send it the reload signal (it
   * keeps its old environment), or leave it alone. Any later start — after
   * a crash — uses the new input.
   */
  async apply(input: ChildInput, change: ChildChange): Promise<void> {
    this.#input = input;
    const { context } = change;
    switch (change.action) {
      case 'restart':
        return this.#restart(change);
      case 'signal':
        if (change.envChanged) this.#log.warn(context, 'the environment changed but onChange is signal: the child keeps its old environment until it restarts');
        for (const signal of change.signals) {
          this.#log.info({ ...context, signal }, `secrets changed; sending ${signal} to the child`);
          this.signal(signal, 'secrets changed');
        }
        return;
      case 'none':
        this.#log.info(context, `secrets changed; onChange is none, so the child is left alone`);
        return;
    }
  }

  /**
   * Replaces the child: waits the splay, then overlaps (when that is the
   * strategy and a child runs) or stops the old child and its group
   * completely before starting the new one. A pending crash restart is replaced by it.
   */
  async #restart(change: ChildChange): Promise<void> {
    const { context } = change;
    const { splayMs, strategy } = this.#options.policy;
    if (splayMs > 0)
      await sleepOn(
        this.#clock,
        jitter(splayMs, () => this.#clock.random()),
        this.#stopAsked.signal,
      );
    await this.#enqueue(async () => {
      if (this.#stopAsked.signal.aborted) return;
      if (strategy === 'overlap' && this.#current !== undefined) return this.#overlap.run(this.#current, this.#input as ChildInput, change);
      this.#log.info(context, 'secrets changed; restarting the child');
      const old = this.#current;
      this.#current = undefined;
      if (old !== undefined) await this.#retire(old);
      await this.#launch('rotation');
    });
  }

  /**
   * Sends a reload signal (SIGHUP, SIGUSR1, SIGUSR2) once the child can take
   * it: a child that has just started gets it when it has installed its
   * handler (see {@link sendReloadSignal}); any other signal goes at once.
   */
  signal(signal: NodeJS.Signals, reason: ReloadReason = 'forwarded'): void {
    const child = this.#current;
    if (child === undefined) return;
    if (!RELOAD_SIGNALS.has(signal)) {
      child.signal(signal);
      return;
    }
    const waiting = this.#pendingReloads.get(signal);
    // One already waiting for this child's handler brings it the latest files and env as well.
    if (waiting?.child === child && waiting.pending) return;
    waiting?.cancel();
    this.#pendingReloads.set(
      signal,
      sendReloadSignal(child, signal, {
        reason,
        startedAt: this.#startedAt,
        log: this.#log,
        clock: this.#clock,
        wrapped: this.#options.command.forwardsSignals === true,
        stillWanted: () => this.#current === child && !this.#stopAsked.signal.aborted,
      }),
    );
  }

  /**
   * Stops the child and its group — both children during an overlap, and a
   * readiness wait — : `signal` first (undefined: the child has it already),
   * SIGKILL after stopTimeout. Nothing starts after it. Idempotent: a second
   * call joins the first. Resolves with the child's exit (the serving one's
   * during an overlap), or the last one when no child ran (undefined if none ever ended).
   */
  stop(signal: NodeJS.Signals | undefined): Promise<ChildExit | undefined> {
    if (this.#stopped !== undefined) return this.#stopped;
    this.#stopAsked.abort();
    this.#clock.clearTimeout(this.#crashRestart);
    this.#cancelReloads();
    const children = this.#children();
    this.#stopped =
      children.length === 0 ? Promise.resolve(this.#leftovers).then(() => this.#lastExit) : Promise.all(children.map((child) => child.stop(this.#stopOptions(signal)))).then(([first]) => first);
    return this.#stopped;
  }

  /**
   * Stops the child because secretvisor received `received`. A SIGINT
   * reaches it as SIGINT, as tini does, so an app's own Ctrl-C handling and
   * exit code (130) are kept; in a terminal's foreground group it has the
   * Ctrl-C already and gets nothing more. Any other signal (SIGTERM) means
   * secretvisor decided to stop it: stopSignal.
   */
  stopFor(received: NodeJS.Signals): Promise<ChildExit | undefined> {
    const { ownGroup, policy } = this.#options;
    const signal = received !== 'SIGINT' ? policy.stopSignal : ownGroup ? 'SIGINT' : undefined;
    if (this.running) {
      this.#log.info({ signal: received, stopSignal: signal ?? 'none (the terminal sent SIGINT)', stopTimeoutMs: policy.stopTimeoutMs }, `received ${received}; stopping the child`);
    }
    return this.stop(signal);
  }

  /** SIGKILLs the child's group (both during an overlap) now (a second stop request). */
  kill(): void {
    for (const child of this.#children()) child.signal('SIGKILL');
  }

  /** Every child that runs or is being stopped: the serving one first. */
  #children(): RunningChild[] {
    return [...new Set([this.#current, this.#outgoing, this.#overlap.incoming])].filter((child) => child !== undefined);
  }

  /** Stops `old`, replaced for new secrets, with its group: its end is reported as a rotation. */
  async #retire(old: RunningChild): Promise<void> {
    this.#outgoing = old;
    await old.stop(this.#stopOptions(this.#options.policy.stopSignal));
    this.#outgoing = undefined;
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #stopOptions(signal: NodeJS.Signals | undefined): StopOptions {
    const { stopTimeoutMs } = this.#options.policy;
    const onEscalate = (pids: readonly number[]): void => {
      this.#log.warn(
        { pids, signal: signal ?? 'none', stopTimeoutMs },
        `the child's processes ${pids.join(', ')} were still running ${stopTimeoutMs}ms after ${signal ?? 'the stop'}; sending SIGKILL`,
      );
    };
    return { signal, timeoutMs: stopTimeoutMs, onEscalate };
  }

  /**
   * Starts a child with the latest input and waits for its readiness; one not
   * ready in time is stopped, and its end handled like a crash. `onSpawned`
   * learns first whether it runs. Resolves true once it is ready.
   */
  async #launch(reason: StartReason, onSpawned?: (running: boolean) => void): Promise<boolean> {
    // A stop that arrived while this waited its turn wins: no child may start after it.
    if (this.#stopAsked.signal.aborted || this.#input === undefined) return false;
    // A start for new secrets replaces a pending crash restart: never two children.
    this.#clock.clearTimeout(this.#crashRestart);
    this.#crashRestart = undefined;
    const input = this.#input;
    const child = this.#spawnChild(input);
    this.#current = child;
    this.#startedAt = this.#clock.now();
    if (!(await this.#started(child, input, reason))) return false;
    onSpawned?.(true);
    const outcome = await this.#gate.wait(child, input);
    if (outcome?.result === 'timeout' && child === this.#current) {
      this.#log.error({ pid: child.pid, check: this.#gate.check, timeoutMs: outcome.elapsedMs, lastFailure: outcome.lastFailure }, `${this.#gate.notReadyText(child, outcome)}; stopping it`);
      this.#notReady = child;
      await child.stop(this.#stopOptions(this.#options.policy.stopSignal));
    }
    return outcome === undefined || outcome.result === 'ready';
  }

  #spawnChild(input: ChildInput): RunningChild {
    const { command, childUser, ownGroup, inheritedFds } = this.#options;
    const child = this.#spawn({ ...command, env: input.env, ownGroup, uid: childUser?.uid, gid: childUser?.gid, inheritedFds, log: this.#log, clock: this.#clock });
    void child.exited.then((exit) => this.#onExit(child, exit));
    return child;
  }

  /** Waits until the program runs; logs and sends `child-started`. False when it could not start. */
  async #started(child: RunningChild, input: ChildInput, reason: StartReason): Promise<boolean> {
    if (!(await child.started) || child.pid === undefined) return false;
    const { pid } = child;
    const { command } = this.#options;
    this.#log.info({ pid, reason, envVars: input.env.size, files: input.files }, `started ${command.program ?? command.file} (pid ${pid})`);
    this.#emit({ type: 'child-started', pid, reason });
    return true;
  }

  #onExit(child: RunningChild, exit: ChildExit): void {
    const { pid } = child;
    const code = exitCodeOf(exit);
    const ended = { pid, exitCode: code, signal: exit.signal };
    if (child === this.#outgoing) {
      this.#exited(pid, exit, 'rotation');
      this.#log.info(ended, `the old child (pid ${pid}) ${describeExit(exit)}`);
      return;
    }
    if (child === this.#overlap.incoming) {
      // The overlap decides what follows (the log line of a rejection says why).
      this.#exited(pid, exit, this.#stopAsked.signal.aborted ? 'stopped' : 'rejected');
      this.#log.info(ended, `the new child (pid ${pid}) ${describeExit(exit)}`);
      return;
    }
    this.#lastExit = exit;
    if (child !== this.#current || this.#stopAsked.signal.aborted) {
      this.#exited(pid, exit, 'stopped');
      this.#log.info(ended, `the child (pid ${pid}) ${describeExit(exit)}`);
      return;
    }
    this.#current = undefined;
    // What the child left running in its group holds the same secrets: end it before anything else happens.
    this.#leftovers = this.#enqueue(() => this.#endLeftovers(child));
    void this.#leftovers.then(() => this.#afterSelfExit(child, exit));
  }

  async #endLeftovers(child: RunningChild): Promise<void> {
    const { pid } = child;
    if (pid === undefined) return;
    const left = child.leftovers();
    if (left.length === 0) return;
    const { stopSignal } = this.#options.policy;
    this.#log.warn({ pid, pids: left, signal: stopSignal }, `the child (pid ${pid}) exited but left ${left.join(', ')} running in its process group or cgroup; ending them with ${stopSignal}`);
    await child.stop(this.#stopOptions(stopSignal));
  }

  #afterSelfExit(child: RunningChild, exit: ChildExit): void {
    const { pid } = child;
    const code = exitCodeOf(exit);
    const ended = { pid, exitCode: code, signal: exit.signal };
    if (this.#current !== undefined && this.#current !== child) {
      // It ended during an overlap whose new child has taken over since.
      this.#exited(pid, exit, 'rotation');
      this.#log.warn(ended, `the old child (pid ${pid}) ${describeExit(exit)} during the overlap; the new child (pid ${this.#current.pid}) has taken over`);
      return;
    }
    const notReady = child === this.#notReady;
    if (notReady) this.#notReady = undefined;
    if (this.#options.policy.onExit === 'exit' || exit.spawnError !== undefined) {
      this.#exited(pid, exit, 'exit');
      this.#cancelReloads();
      if (notReady) {
        this.#log.error(ended, `the child was not ready in time; exiting with ${ExitCode.unavailable}`);
        this.#options.onFinalExit({ code: ExitCode.unavailable, signal: null });
        return;
      }
      this.#log.info(ended, `child exited with code ${code}${exit.signal === null ? '' : ` (${exit.signal})`}`);
      this.#options.onFinalExit(exit);
      return;
    }
    this.#exited(pid, exit, 'crash');
    if (this.#clock.now() - this.#startedAt >= HEALTHY_AFTER_MS) this.#crashes = 0;
    const delay = backoffDelay(this.#crashes, { ...CRASH_BACKOFF, random: () => this.#clock.random() });
    this.#crashes++;
    const what = notReady ? 'the child was not ready in time' : `child exited with code ${code}${exit.signal === null ? '' : ` (${exit.signal})`}`;
    this.#log.warn({ ...ended, restarts: this.#crashes, delayMs: delay }, `${what}; restarting in ${delay}ms (restart ${this.#crashes} in a row)`);
    // A stop that came while the leftovers were ended wins: nothing restarts after it.
    if (this.#stopAsked.signal.aborted) return;
    this.#crashRestartReason = exit.signal === null || notReady ? 'crash' : 'signal';
    this.#crashRestart = this.#clock.setTimeout(() => {
      this.#crashRestart = undefined;
      // A restart for new secrets may have started a child while this waited in line.
      void this.#enqueue(async () => (this.#current === undefined ? this.#launch(this.#crashRestartReason) : false));
    }, delay);
  }

  #exited(pid: number | undefined, exit: ChildExit, reason: ExitReason): void {
    // A program that never ran had no child-started either.
    if (pid !== undefined && exit.spawnError === undefined) this.#emit({ type: 'child-exited', pid, code: exit.code, signal: exit.signal, reason });
  }

  #cancelReloads(): void {
    for (const waiting of this.#pendingReloads.values()) waiting.cancel();
  }

  #emit(event: ChildEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      // A broken listener must not break the child's lifecycle.
      this.#log.error({ event: event.type, err: String(error) }, `a child event listener failed: ${String(error)}`);
    }
  }
}
