import type { Clock } from './clock.js';
import type { Config } from './config/config.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import { resolveLayers, sourcesOf, type Identity, type Layer } from './scope/resolve-layers.js';
import { SourceSet } from './sources/source-set.js';
import { generateKeys } from './generate/generate-keys.js';
import { waitStartupSplay } from './sources/startup-splay.js';
import type { Snapshot } from './sources/source.js';
import { resolvePlan } from './render/resolve-plan.js';
import type { Plan } from './render/build-plan.js';
import { diffPlans } from './render/diff-plans.js';
import { decideChange } from './render/change-action.js';
import { createRuntimeDir, removeRuntimeDir, runtimeBase } from './render/runtime-dir.js';
import { sweepRuntimeDirs } from './render/sweep-runtime-dirs.js';
import { writeFileOutputs, type FileOwner } from './render/write-files.js';
import { Debouncer } from './watch/debounce.js';
import { exitCodeOf, signalNumber } from './child/exit-code.js';
import { wrapForParentDeath, type Command } from './child/pid1.js';
import { SupervisedChild } from './child/supervised-child.js';
import type { ChildEvent, ChildInput } from './child/child-events.js';
import type { SourceEvent } from './sources/source-events.js';

/** Everything the supervisor needs; side effects that tests may replace come in here. */
export interface SupervisorOptions {
  readonly config: Config;
  readonly identity: Identity;
  /** The program, already resolved (and wrapped for PID 1 where needed). */
  readonly command: Command;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** The one clock: the sources, the debounce, the child and every timestamp run on it. */
  readonly clock: Clock;
  /** No watching, no restarts: resolve, start, wait, exit. */
  readonly once: boolean;
  /** Start the child as leader of its own process group (false when it shares a terminal). */
  readonly ownGroup: boolean;
  /** The user the child runs as, when secretvisor is root. */
  readonly childUser?: FileOwner | undefined;
  /** Service-manager notifications (`READY=1`, `STOPPING=1`). */
  readonly notify?: ((state: string) => void) | undefined;
  /** What the child did (started, ready, exited), for health and metrics. */
  readonly onChildEvent?: ((event: ChildEvent) => void) | undefined;
  /** What the sources did (reads, failures) and which changes were applied or rejected, for health and metrics. */
  readonly onSourceEvent?: ((event: SourceEvent) => void) | undefined;
  /** Held sockets: secretvisor's descriptors that become the child's fd 3, 4, … */
  readonly inheritedFds?: readonly number[] | undefined;
}

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
  readonly #child: SupervisedChild;
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
    const { onChange, onExit, ready } = options.config;
    let readySent = false;
    this.#child = new SupervisedChild({
      command: wrapForParentDeath(options.command, onChange.stopSignal, options.parentEnv),
      ownGroup: options.ownGroup,
      childUser: options.childUser,
      inheritedFds: options.inheritedFds,
      policy: {
        onExit: options.once ? 'exit' : onExit,
        stopSignal: onChange.stopSignal,
        stopTimeoutMs: onChange.stopTimeoutMs,
        splayMs: onChange.splayMs,
        strategy: onChange.strategy,
        ready,
      },
      log: this.#log,
      clock: options.clock,
      onFinalExit: (exit) => void this.#cleanUp().then(() => this.#finish(exitCodeOf(exit))),
      onEvent: (event) => {
        // systemd learns the service is up once the first child is ready (its check passed), not when it was spawned.
        if (event.type === 'child-ready' && !readySent && this.#stopping === undefined) {
          readySent = true;
          options.notify?.('READY=1');
        }
        options.onChildEvent?.(event);
      },
    });
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
    this.#child.signal(signal);
  }

  async #startUp(): Promise<void> {
    const options = this.#options;
    const { config } = options;
    this.#layers = resolveLayers(config.scopes, options.identity);
    await generateKeys(config, sourcesOf(this.#layers), { log: options.log, clock: options.clock });
    await waitStartupSplay(config, sourcesOf(this.#layers), { log: this.#log, signal: this.#abort.signal, clock: options.clock });
    if (this.#stopping !== undefined || this.#finished) return;
    this.#sources = await SourceSet.create({
      config,
      names: sourcesOf(this.#layers),
      identity: options.identity,
      env: options.parentEnv,
      log: options.log,
      clock: options.clock,
      signal: this.#abort.signal,
      onEvent: options.onSourceEvent,
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
    if (this.#stopping !== undefined || this.#finished || !(await this.#child.start(childInput(plan)))) return;
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

  async #watch(): Promise<void> {
    const sources = this.#sources as SourceSet;
    this.#debouncer = new Debouncer(this.#options.config.onChange.debounceMs, (names) => this.#queueReload(names), { clock: this.#options.clock });
    await sources.watch((name) => this.#debouncer?.add(name));
    // A file changed between the start-up read and its watch being armed raised
    // no event, and the watch's first look already has it: re-read them once.
    this.#queueReload(new Set(sources.fileSourceNames));
    await this.#work;
    this.#log.info({ sources: sources.names }, 'watching sources for changes');
  }

  #queueReload(names: ReadonlySet<string>): void {
    this.#work = this.#work
      .then(() => this.#reload(names))
      .catch((error: unknown) => {
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
      sources.reject(reRead);
      this.#options.onSourceEvent?.({ type: 'secrets-rejected', sources: changed, at: this.#options.clock.now() });
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
    const context = { sources: changed, envNames: diff.envNames, files: diff.filePaths };
    if (!diff.envChanged && !diff.filesChanged) {
      this.#log.info(context, `${changed.join(', ')} changed, but nothing this service receives did`);
      return;
    }
    this.#plan = plan;
    const decision = decideChange(this.#options.config, changed, diff);
    const signals = decision.action === 'signal' ? decision.signals : [];
    this.#options.onSourceEvent?.({ type: 'secrets-applied', sources: changed, at: this.#options.clock.now() });
    await this.#child.apply(childInput(plan), { action: decision.action, signals, envChanged: diff.envChanged, sources: changed, context });
  }

  async #shutDown(signal: NodeJS.Signals): Promise<void> {
    if (this.#stopping !== undefined) {
      this.#log.warn(`second ${signal}: killing the child now`);
      this.#child.kill();
      return;
    }
    this.#stopping = signal;
    this.#options.notify?.('STOPPING=1');
    this.#abort.abort();
    this.#debouncer?.cancel();
    const exit = await this.#child.stopFor(signal);
    await this.#cleanUp();
    this.#finish(exitCodeOf(exit ?? { code: 128 + signalNumber(signal), signal: null }));
  }

  async #cleanUp(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#debouncer?.cancel();
    await this.#sources?.close();
    if (this.#runtimeDir !== undefined) await removeRuntimeDir(this.#runtimeDir);
  }
}

function childInput(plan: Plan): ChildInput {
  return { env: plan.env, files: plan.files.length };
}
