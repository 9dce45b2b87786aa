import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config/config.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import { resolveLayers, sourcesOf, type Identity, type Layer } from './scope/resolve-layers.js';
import { SourceSet } from './sources/source-set.js';
import type { Snapshot } from './sources/source.js';
import { resolvePlan } from './render/resolve-plan.js';
import type { Plan } from './render/build-plan.js';
import { diffPlans, type PlanDiff } from './render/diff-plans.js';
import { decideChange } from './render/change-action.js';
import { createRuntimeDir, removeRuntimeDir, runtimeBase } from './render/runtime-dir.js';
import { sweepRuntimeDirs } from './render/sweep-runtime-dirs.js';
import { writeFileOutputs, type FileOwner } from './render/write-files.js';
import { Debouncer } from './watch/debounce.js';
import { backoffDelay, jitter } from './watch/backoff.js';
import { exitCodeOf, signalNumber, type ChildExit } from './child/exit-code.js';
import { startChild, type RunningChild } from './child/start-child.js';
import { RELOAD_SIGNALS, sendReloadSignal, type PendingReload, type ReloadReason } from './child/reload-signal.js';
import type { Command } from './child/pid1.js';

/** Everything the supervisor needs; side effects that tests may replace come in here. */
export interface SupervisorOptions {
  readonly config: Config;
  readonly identity: Identity;
  /** The program, already resolved (and wrapped for PID 1 where needed). */
  readonly command: Command;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** No watching, no restarts: resolve, start, wait, exit. */
  readonly once: boolean;
  /** Start the child as leader of its own process group (false when it shares a terminal). */
  readonly ownGroup: boolean;
  /** The user the child runs as, when secretvisor is root. */
  readonly childUser?: FileOwner | undefined;
  /** Service-manager notifications (`READY=1`, `STOPPING=1`). */
  readonly notify?: ((state: string) => void) | undefined;
  /** Held sockets: secretvisor's descriptors that become the child's fd 3, 4, … */
  readonly inheritedFds?: readonly number[] | undefined;
}

// A child that stayed up this long is healthy again: its next crash restarts quickly.
const HEALTHY_AFTER_MS = 10_000;
const CRASH_BACKOFF = { initialMs: 500, maxMs: 60_000 };

/**
 * The loop of DESIGN.md: read every source this service may see, start the
 * child with exactly that, then on each change re-read, validate the whole
 * new set, and restart, signal or do nothing — keeping the last good set on
 * any failure. It never exits the process; `run` resolves with the exit code.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #log: Logger;
  #sources: SourceSet | undefined;
  readonly #abort = new AbortController();
  #layers: Layer[] = [];
  #runtimeDir: string | undefined;
  #plan: Plan | undefined;
  #child: RunningChild | undefined;
  /** The old child while a restart stops it. */
  #outgoing: RunningChild | undefined;
  #childStartedAt = 0;
  /** Reload signals waiting for the child to handle them, by signal. */
  readonly #pendingReloads = new Map<NodeJS.Signals, PendingReload>();
  #crashes = 0;
  /** The restart after a crash (onExit: restart) while it waits out its backoff. */
  #crashRestart: NodeJS.Timeout | undefined;
  #lastExit: ChildExit | undefined;
  #debouncer: Debouncer | undefined;
  #work: Promise<void> = Promise.resolve();
  #stopping: NodeJS.Signals | undefined;
  #finished = false;
  readonly #done: Promise<number>;
  #finish!: (code: number) => void;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: 'supervisor' });
    this.#done = new Promise((resolve) => (this.#finish = resolve));
  }

  /** Starts everything and resolves with the exit code secretvisor should end with. */
  async run(): Promise<number> {
    // The child may exit (and everything be cleaned up) before start-up has
    // finished arming watchers, so start-up races the end.
    try {
      await Promise.race([this.#startUp(), this.#done]);
    } catch (error) {
      await this.#cleanUp();
      if (this.#stopping !== undefined) return 128 + signalNumber(this.#stopping);
      throw error;
    }
    return this.#done;
  }

  /** Handles an OS signal: SIGTERM/SIGINT stop everything; others go to the child. */
  handleSignal(signal: NodeJS.Signals): void {
    if (signal === 'SIGTERM' || signal === 'SIGINT') {
      void this.#shutDown(signal);
      return;
    }
    if (!this.#options.ownGroup && (signal === 'SIGQUIT' || signal === 'SIGWINCH' || signal === 'SIGTSTP')) return;
    if (RELOAD_SIGNALS.has(signal)) this.#sendReloadSignal(signal, 'forwarded');
    else this.#child?.signal(signal);
  }

  async #startUp(): Promise<void> {
    const options = this.#options;
    const { config } = options;
    this.#layers = resolveLayers(config.scopes, options.identity);
    this.#sources = await SourceSet.create({
      config,
      names: sourcesOf(this.#layers),
      identity: options.identity,
      env: options.parentEnv,
      log: options.log,
      signal: this.#abort.signal,
    });
    const snapshots = await this.#sources.readAtStartup(config.startupTimeoutMs);
    if (config.files.length > 0) {
      const base = runtimeBase(options.parentEnv);
      await sweepRuntimeDirs(base, { log: this.#log, childUser: options.childUser });
      this.#runtimeDir = await createRuntimeDir(base, options.childUser);
      // A stop during start-up has cleaned up already: the folder must not outlive it.
      if (this.#finished) return removeRuntimeDir(this.#runtimeDir);
    }
    const plan = this.#resolve(snapshots);
    await this.#writeFiles(plan);
    this.#plan = plan;
    if (!(await this.#startChild(plan, 'start-up'))) return;
    options.notify?.('READY=1');
    if (!options.once && !this.#finished) await this.#watch();
  }

  #resolve(snapshots: ReadonlyMap<string, Snapshot>): Plan {
    return resolvePlan({
      config: this.#options.config,
      layers: this.#layers,
      snapshots,
      parentEnv: this.#options.parentEnv,
      runtimeDir: this.#runtimeDir,
      argv: [this.#options.command.file, ...this.#options.command.args],
      log: this.#log,
    }).plan;
  }

  async #writeFiles(plan: Plan): Promise<void> {
    if (this.#runtimeDir !== undefined) await writeFileOutputs(this.#runtimeDir, plan.files, this.#options.childUser);
  }

  /** Starts a child with the plan; resolves true once it runs, false when it could not (or may not) start. */
  async #startChild(plan: Plan, reason: string): Promise<boolean> {
    // A stop that arrived while the plan was being prepared wins: no child may start after it.
    if (this.#stopping !== undefined || this.#finished) return false;
    // A start for new secrets replaces a pending crash restart: never two children.
    clearTimeout(this.#crashRestart);
    const { command, childUser, ownGroup, inheritedFds } = this.#options;
    const child = startChild({ ...command, env: plan.env, ownGroup, uid: childUser?.uid, gid: childUser?.gid, inheritedFds });
    this.#child = child;
    this.#childStartedAt = Date.now();
    void child.exited.then((exit) => this.#onChildExit(child, exit));
    if (!(await child.started)) return false;
    this.#log.info({ pid: child.pid, reason, envVars: plan.env.size, files: plan.files.length }, `started ${command.file} (pid ${child.pid})`);
    return true;
  }

  async #watch(): Promise<void> {
    const sources = this.#sources as SourceSet;
    this.#debouncer = new Debouncer(this.#options.config.onChange.debounceMs, (names) => this.#queueReload(names));
    await sources.watch((name) => this.#debouncer?.add(name));
    // A file changed between the start-up read and its watch being armed raised
    // no event, and the watch's first look already has it: re-read them once.
    this.#queueReload(new Set(sources.fileSourceNames));
    await this.#work;
    this.#log.info({ sources: sources.names }, 'watching sources for changes');
  }

  #queueReload(names: ReadonlySet<string>): void {
    this.#work = this.#work.then(() => this.#reload(names)).catch((error: unknown) => {
      this.#log.error({ err: describeError(error) }, `reload failed: ${describeError(error)}; the child keeps its last good secrets`);
    });
  }

  async #reload(names: ReadonlySet<string>): Promise<void> {
    const sources = this.#sources;
    if (this.#stopping !== undefined || this.#finished || sources === undefined) return;
    const reRead = await sources.reRead(names);
    const { changed } = reRead;
    if (changed.length === 0) return;
    let plan: Plan;
    try {
      plan = this.#resolve(reRead.next);
    } catch (error) {
      this.#log.error({ sources: changed, err: describeError(error) }, `new secrets from ${changed.join(', ')} rejected: ${describeError(error)}; the child keeps its last good secrets`);
      return;
    }
    const diff = diffPlans(this.#plan as Plan, plan);
    if (diff.envChanged || diff.filesChanged) {
      try {
        await this.#writeFiles(plan);
      } catch (error) {
        // Not committed as last good: the same change is tried again on the next event or refresh.
        this.#log.error({ sources: changed, err: describeError(error) }, `could not write the file outputs: ${describeError(error)}; the child keeps its last good secrets`);
        return;
      }
    }
    sources.commit(reRead);
    await this.#apply(plan, diff, changed);
  }

  async #apply(plan: Plan, diff: PlanDiff, sources: readonly string[]): Promise<void> {
    const context = { sources, envNames: diff.envNames, files: diff.filePaths };
    if (!diff.envChanged && !diff.filesChanged) {
      this.#log.info(context, `${sources.join(', ')} changed, but nothing this service receives did`);
      return;
    }
    const decision = decideChange(this.#options.config, sources, diff);
    this.#plan = plan;
    switch (decision.action) {
      case 'restart':
        await this.#restart(plan, context);
        return;
      case 'signal':
        if (diff.envChanged) this.#log.warn(context, 'the environment changed but onChange is signal: the child keeps its old environment until it restarts');
        for (const signal of decision.signals) {
          this.#log.info({ ...context, signal }, `secrets changed; sending ${signal} to the child`);
          this.#sendReloadSignal(signal, 'secrets changed');
        }
        return;
      case 'none':
        this.#log.info(context, `secrets changed; onChange is none, so the child is left alone`);
        return;
    }
  }

  #sendReloadSignal(signal: NodeJS.Signals, reason: ReloadReason): void {
    const child = this.#child;
    if (child === undefined) return;
    const waiting = this.#pendingReloads.get(signal);
    // One already waiting for this child's handler brings it the latest files and env as well.
    if (waiting?.child === child && waiting.pending) return;
    waiting?.cancel();
    this.#pendingReloads.set(
      signal,
      sendReloadSignal(child, signal, {
        reason,
        startedAt: this.#childStartedAt,
        log: this.#log,
        stillWanted: () => this.#child === child && this.#stopping === undefined,
      }),
    );
  }

  async #restart(plan: Plan, context: object): Promise<void> {
    const { splayMs, stopSignal, stopTimeoutMs } = this.#options.config.onChange;
    if (splayMs > 0) await sleep(jitter(splayMs), undefined, { signal: this.#abort.signal }).catch(() => undefined);
    if (this.#stopping !== undefined) return;
    this.#log.info(context, 'secrets changed; restarting the child');
    this.#outgoing = this.#child;
    this.#child = undefined;
    await this.#outgoing?.stop({ signal: stopSignal, timeoutMs: stopTimeoutMs });
    this.#outgoing = undefined;
    if (this.#stopping !== undefined) return;
    await this.#startChild(plan, 'secrets changed');
  }

  #onChildExit(child: RunningChild, exit: ChildExit): void {
    if (child === this.#outgoing) return;
    this.#lastExit = exit;
    if (child !== this.#child || this.#stopping !== undefined) return;
    const code = exitCodeOf(exit);
    const { once, config } = this.#options;
    if (once || config.onExit === 'exit' || exit.spawnError !== undefined) {
      this.#log.info({ exitCode: code, signal: exit.signal }, `child exited with code ${code}`);
      void this.#cleanUp().then(() => this.#finish(code));
      return;
    }
    if (Date.now() - this.#childStartedAt >= HEALTHY_AFTER_MS) this.#crashes = 0;
    const delay = backoffDelay(this.#crashes, CRASH_BACKOFF);
    this.#crashes++;
    this.#log.warn({ exitCode: code, restarts: this.#crashes, delayMs: delay }, `child exited with code ${code}; restarting in ${delay}ms (restart ${this.#crashes} in a row)`);
    this.#child = undefined;
    this.#crashRestart = setTimeout(() => {
      if (this.#stopping !== undefined) return;
      this.#work = this.#work.then(async () => {
        // A restart for new secrets may have started a child while this waited in line.
        if (this.#child === undefined) await this.#startChild(this.#plan as Plan, 'onExit: restart');
      });
    }, delay);
  }

  async #shutDown(signal: NodeJS.Signals): Promise<void> {
    if (this.#stopping !== undefined) {
      this.#log.warn(`second ${signal}: killing the child now`);
      this.#child?.signal('SIGKILL');
      return;
    }
    this.#stopping = signal;
    this.#options.notify?.('STOPPING=1');
    this.#abort.abort();
    this.#debouncer?.cancel();
    const child = this.#child ?? this.#outgoing;
    if (child === undefined) {
      await this.#cleanUp();
      this.#finish(this.#lastExit === undefined ? 128 + signalNumber(signal) : exitCodeOf(this.#lastExit));
      return;
    }
    const { stopSignal, stopTimeoutMs } = this.#options.config.onChange;
    // In the terminal's group the child got Ctrl-C already; a second signal makes many dev servers force-quit.
    const first = !this.#options.ownGroup && signal === 'SIGINT' ? undefined : stopSignal;
    this.#log.info({ signal, stopSignal: first ?? 'none (the terminal sent SIGINT)', stopTimeoutMs }, `received ${signal}; stopping the child`);
    const exit = await child.stop({ signal: first, timeoutMs: stopTimeoutMs });
    await this.#cleanUp();
    this.#finish(exitCodeOf(exit));
  }

  async #cleanUp(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#debouncer?.cancel();
    clearTimeout(this.#crashRestart);
    for (const waiting of this.#pendingReloads.values()) waiting.cancel();
    await this.#sources?.close();
    if (this.#runtimeDir !== undefined) await removeRuntimeDir(this.#runtimeDir);
  }
}
