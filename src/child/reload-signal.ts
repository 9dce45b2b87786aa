import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { firstChildOf, handlesSignal } from './signal-disposition.js';
import type { RunningChild } from './start-child.js';

/**
 * How long a child that has just started may take to install its handler
 * for the reload signal before it gets the signal anyway.
 */
export const RELOAD_HANDLER_WAIT_MS = 2_000;
const POLL_MS = 20;

/** Signals a service takes as "reload", whose default action would end it instead. */
export const RELOAD_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGHUP', 'SIGUSR1', 'SIGUSR2']);

/** Why a reload signal is sent: forwarded from secretvisor's own, or for new secrets. */
export type ReloadReason = 'forwarded' | 'secrets changed';

/** A reload signal on its way; `pending` until it was sent or given up. */
export interface PendingReload {
  readonly child: RunningChild;
  readonly pending: boolean;
  cancel(): void;
}

/** What {@link sendReloadSignal} needs besides the child and the signal. */
export interface ReloadOptions {
  readonly reason: ReloadReason;
  /** When the child was started (epoch ms). */
  readonly startedAt: number;
  readonly log: Logger;
  readonly clock: Clock;
  /** The child is a wrapper (tini) that passes the signal on: wait for its service's handler instead. */
  readonly wrapped: boolean;
  /** False once the child was replaced or is being stopped: then nothing is sent. */
  readonly stillWanted: () => boolean;
}

/**
 * Sends a reload signal (SIGHUP and the like, forwarded or for new secrets)
 * once the child can take it. The default action of those signals ends a
 * process, so one that arrives before a program has installed its handler —
 * right after a (re)start — would kill the service it was meant to reload. A
 * child that has just started gets the signal as soon as `/proc` shows it
 * handles it, or after {@link RELOAD_HANDLER_WAIT_MS} of its life if it never
 * does (with a warning: it will most likely end). Where `/proc` cannot tell,
 * at once.
 */
export function sendReloadSignal(child: RunningChild, signal: NodeJS.Signals, options: ReloadOptions): PendingReload {
  let pending = true;
  const { clock } = options;
  let timer: unknown;
  const attempt = (): void => {
    timer = undefined;
    if (!options.stillWanted()) {
      pending = false;
      return;
    }
    const handled = child.pid === undefined ? undefined : handlerOf(child.pid, signal, options.wrapped);
    const age = clock.now() - options.startedAt;
    if (handled === false && age < RELOAD_HANDLER_WAIT_MS) {
      timer = clock.setTimeout(attempt, POLL_MS);
      return;
    }
    if (handled === false) {
      const hint = options.reason === 'secrets changed' ? ' — set onChange.env and onChange.files to restart if the service cannot reload' : '';
      options.log.warn({ pid: child.pid, signal, reason: options.reason }, `the child (pid ${child.pid}) has no handler for ${signal}; sending it anyway, which most likely ends it${hint}`);
    }
    pending = false;
    child.signal(signal);
  };
  attempt();
  return {
    child,
    get pending() {
      return pending;
    },
    cancel() {
      clock.clearTimeout(timer);
      pending = false;
    },
  };
}

/** Whether the process that takes `signal` has a handler for it: the child, or the service a wrapper started. */
function handlerOf(pid: number, signal: NodeJS.Signals, wrapped: boolean): boolean | undefined {
  if (!wrapped) return handlesSignal(pid, signal);
  const service = firstChildOf(pid);
  // A wrapper that has not started its service yet: the signal would reach no handler.
  if (service === null) return false;
  return service === undefined ? undefined : handlesSignal(service, signal);
}
