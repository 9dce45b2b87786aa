import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ChildChange, ChildEvent, ChildInput, StartReason } from './child-events.js';
import { describeExit, type ChildExit } from './exit-code.js';
import type { ReadyGate } from './ready-gate.js';
import type { RunningChild } from './start-child.js';

/** What an overlap rotation uses of the lifecycle that runs it. */
export interface OverlapHost {
  readonly log: Logger;
  readonly clock: Clock;
  readonly gate: ReadyGate;
  /** Aborted once secretvisor asked for a stop. */
  readonly stopAsked: AbortSignal;
  /** The child that serves now (undefined once it exited by itself). */
  serving(): RunningChild | undefined;
  /** Spawns a child with `input`; its end is reported to the lifecycle. */
  spawn(input: ChildInput): RunningChild;
  /** Waits until `child` runs; logs it and sends `child-started`. False when it could not start. */
  started(child: RunningChild, input: ChildInput, reason: StartReason): Promise<boolean>;
  /** Makes `child` the serving one, up since `startedAt`. */
  takeOver(child: RunningChild, startedAt: number): void;
  /** Stops `old` as the outgoing child of a rotation. */
  retire(old: RunningChild): Promise<void>;
  /** Stops `child` with the stop signal, SIGKILL after stopTimeout. */
  stop(child: RunningChild): Promise<ChildExit>;
  emit(event: ChildEvent): void;
}

/**
 * onChange.strategy overlap: the new child starts beside the old one and
 * must pass the readiness check in time; then it takes over and the old one
 * is stopped. A new child that exits, cannot start or is not ready in time
 * is stopped instead, the old one keeps serving on the previous secrets,
 * and the rejection is logged once and sent as `rotation-rejected`.
 */
export class OverlapRotation {
  readonly #host: OverlapHost;
  #incoming: RunningChild | undefined;

  constructor(host: OverlapHost) {
    this.#host = host;
  }

  /** The new child, beside the old one, until it is ready or rejected. */
  get incoming(): RunningChild | undefined {
    return this.#incoming;
  }

  /** Replaces `old` with a child started on `input`, or keeps it when the new one fails. */
  async run(old: RunningChild, input: ChildInput, change: ChildChange): Promise<void> {
    const host = this.#host;
    host.log.info({ ...change.context, oldPid: old.pid }, `secrets changed; starting a new child beside the old one (pid ${old.pid}), which is stopped once the new one is ready (strategy overlap)`);
    const incoming = host.spawn(input);
    this.#incoming = incoming;
    const startedAt = host.clock.now();
    const outcome = (await host.started(incoming, input, 'rotation')) ? await host.gate.wait(incoming, input) : undefined;
    if (outcome?.result === 'ready') {
      this.#incoming = undefined;
      const oldRuns = host.serving() === old;
      host.takeOver(incoming, startedAt);
      if (!oldRuns) return;
      host.log.info({ pid: incoming.pid, oldPid: old.pid }, `the new child (pid ${incoming.pid}) is ready; stopping the old one (pid ${old.pid})`);
      await host.retire(old);
      return;
    }
    // The new child is stopped whatever happened; with a stop, this joins it.
    const exit = await host.stop(incoming);
    this.#incoming = undefined;
    if (host.stopAsked.aborted) return;
    const why =
      outcome === undefined
        ? 'could not be started'
        : outcome.result === 'timeout'
          ? host.gate.notReadyText(incoming, outcome).replace(/^the child \(pid \d+\) /, '')
          : `${describeExit(exit)} before it was ready`;
    const kept = host.serving() === old ? old.pid : undefined;
    const sources = change.sources.join(', ');
    host.log.error(
      { ...change.context, pid: incoming.pid, keptPid: kept, check: host.gate.check, lastFailure: outcome?.lastFailure },
      kept === undefined
        ? `rotation of ${sources} rejected: the new child (pid ${incoming.pid}) ${why}; the old child (pid ${old.pid}) had exited too`
        : `rotation of ${sources} rejected: the new child (pid ${incoming.pid}) ${why}; the old child (pid ${old.pid}) keeps serving on the previous secrets`,
    );
    host.emit({ type: 'rotation-rejected', rejectedPid: incoming.pid, keptPid: kept, sources: change.sources });
  }
}
