import { deadlineOn, sleepOn, type Clock } from '../clock.js';
import { SourceUnavailableError, describeError } from '../errors.js';
import { formatDuration } from '../config/duration.js';
import type { Logger } from '../log.js';
import { STARTUP_BACKOFF, backoffDelay } from '../watch/backoff.js';
import { failureKindOf } from './failure-kind.js';
import type { SecretSource, Snapshot } from './source.js';

/** Options of {@link readAtStartup}. */
export interface ReadAtStartupOptions {
  readonly timeoutMs: number;
  readonly log: Logger;
  /** The clock the deadline and the retries' backoff run on. */
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** Called for each failed attempt, with the error (for health: start-up shows which source it waits for). */
  readonly onFailure?: ((source: string, error: unknown) => void) | undefined;
}

/**
 * Reads every source once, in parallel. A source that is unreachable is
 * retried with backoff until `timeoutMs` has passed, then start-up fails with
 * exit 69 naming it and its last error; any other error — access denied (77),
 * a missing file or secret (66), bad data or config — fails at once. A read
 * still waiting for an answer at that point is aborted, so a source that
 * hangs cannot hold start-up past the timeout.
 */
export async function readAtStartup(sources: readonly SecretSource[], options: ReadAtStartupOptions): Promise<Map<string, Snapshot>> {
  const deadline = options.clock.now() + options.timeoutMs;
  const timeout = deadlineOn(options.clock, options.timeoutMs);
  const readSignal = options.signal === undefined ? timeout.signal : AbortSignal.any([options.signal, timeout.signal]);
  const snapshots = await Promise.all(sources.map((source) => readWithRetry(source, { ...options, deadline, timeout: timeout.signal, readSignal })));
  // Only once all are done: after one failed, the others still stop at the deadline.
  timeout.cancel();
  return new Map(sources.map((source, index) => [source.name, snapshots[index] as Snapshot]));
}

interface RetryOptions extends ReadAtStartupOptions {
  readonly deadline: number;
  /** Aborts when start-up has run out of time. */
  readonly timeout: AbortSignal;
  /** Aborts at the deadline or when secretvisor stops. */
  readonly readSignal: AbortSignal;
}

async function readWithRetry(source: SecretSource, options: RetryOptions): Promise<Snapshot> {
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      return await source.read(options.readSignal);
    } catch (error) {
      options.onFailure?.(source.name, error);
      // Denied (77), not found (66), invalid (65, 78): waiting changes nothing.
      if (failureKindOf(error) !== 'transient') throw error;
      // A read cut short by the deadline says only "aborted": report the error before it, if any.
      if (!options.timeout.aborted) lastError = error;
      const delay = Math.min(backoffDelay(attempt, { ...STARTUP_BACKOFF, random: () => options.clock.random() }), options.deadline - options.clock.now());
      if (delay <= 0 || options.timeout.aborted) {
        const last = lastError === undefined ? 'no answer' : describeError(lastError);
        throw new SourceUnavailableError(`source "${source.name}" could not be reached at start-up within startup.timeout (${formatDuration(options.timeoutMs)}): ${last}`, {
          hint: 'check the source, or raise startup.timeout to wait longer',
          cause: lastError,
        });
      }
      options.log.warn({ source: source.name, attempt: attempt + 1, retryInMs: delay }, `source "${source.name}" not reachable yet: ${describeError(error)}`);
      await sleepOn(options.clock, delay, options.signal);
      // A stop ends start-up with the abort: the supervisor reports the stop, not a source error.
      options.signal?.throwIfAborted();
    }
  }
}
