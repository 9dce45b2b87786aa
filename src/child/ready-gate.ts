import type { Clock } from '../clock.js';
import { formatDuration } from '../config/duration.js';
import { describeCheck, type ReadinessConfig } from '../config/readiness-config.js';
import type { Logger } from '../log.js';
import type { ChildEvent, ChildInput } from './child-events.js';
import { waitForReady, type Probe, type ReadyOutcome } from './readiness.js';
import type { RunningChild } from './start-child.js';

/** Everything a {@link ReadyGate} needs. */
export interface ReadyGateOptions {
  /** The check each new child must pass in time; undefined: ready once it runs. */
  readonly ready: ReadinessConfig | undefined;
  /** The user the child runs as, for a `command` check. */
  readonly childUser?: { readonly uid: number; readonly gid: number } | undefined;
  readonly log: Logger;
  readonly clock: Clock;
  /** Tries the check once; the real probe unless a test passes a fake. */
  readonly probe?: Probe | undefined;
  /** Aborted when a stop begins: ends a wait at once. */
  readonly stopAsked: AbortSignal;
  readonly emit: (event: ChildEvent) => void;
}

/**
 * The readiness check between a child's start and its serving: a first
 * child, a restarted one, and the new child of an overlap rotation all pass
 * it before they count as ready.
 */
export class ReadyGate {
  readonly #options: ReadyGateOptions;

  constructor(options: ReadyGateOptions) {
    this.#options = options;
  }

  /** The check as log lines name it ("tcp 127.0.0.1:8080"), or "none". */
  get check(): string {
    const { ready } = this.#options;
    return ready === undefined ? 'none' : describeCheck(ready.check);
  }

  /**
   * Runs the check until it passes, times out, the child exits or a stop
   * begins; sends `child-ready` when it passed. Undefined (ready at once)
   * without a check.
   */
  async wait(child: RunningChild, input: ChildInput): Promise<ReadyOutcome | undefined> {
    const { ready, log, childUser, emit } = this.#options;
    const pid = child.pid as number;
    if (ready === undefined) {
      emit({ type: 'child-ready', pid });
      return undefined;
    }
    const gone = new AbortController();
    void child.exited.then(() => gone.abort());
    log.info({ pid, check: this.check, timeoutMs: ready.timeoutMs }, `waiting for the child (pid ${pid}) to be ready: ${this.check}`);
    const outcome = await waitForReady(ready, {
      context: { env: input.env, uid: childUser?.uid, gid: childUser?.gid },
      signal: AbortSignal.any([this.#options.stopAsked, gone.signal]),
      clock: this.#options.clock,
      probe: this.#options.probe,
    });
    if (outcome.result === 'ready') {
      log.info({ pid, check: this.check, elapsedMs: outcome.elapsedMs, attempts: outcome.attempts }, `the child (pid ${pid}) is ready after ${outcome.elapsedMs} ms (${this.check})`);
      emit({ type: 'child-ready', pid });
    }
    return outcome;
  }

  /** "the child (pid 7) was not ready within ready.timeout 5s (tcp …, 3 tries; last: ECONNREFUSED)". */
  notReadyText(child: RunningChild, outcome: ReadyOutcome): string {
    const timeout = formatDuration(this.#options.ready?.timeoutMs ?? 0);
    return `the child (pid ${child.pid}) was not ready within ready.timeout ${timeout} (${this.check}, ${outcome.attempts} tries; last: ${outcome.lastFailure ?? 'none'})`;
  }
}
