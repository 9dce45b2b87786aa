import { setTimeout as sleep } from 'node:timers/promises';
import { SourceUnavailableError, describeError, isRetryable } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffDelay } from '../watch/backoff.js';
import type { SecretSource, Snapshot } from './source.js';

/** Options of {@link readAtStartup}. */
export interface ReadAtStartupOptions {
  readonly timeoutMs: number;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

const STARTUP_BACKOFF = { initialMs: 250, maxMs: 10_000 };

/**
 * Reads every source once, in parallel. A source that is unreachable is
 * retried with backoff until `timeoutMs` has passed, then start-up fails with
 * exit 69 naming it and its last error; any other error fails at once.
 */
export async function readAtStartup(sources: readonly SecretSource[], options: ReadAtStartupOptions): Promise<Map<string, Snapshot>> {
  const deadline = Date.now() + options.timeoutMs;
  const snapshots = await Promise.all(sources.map((source) => readWithRetry(source, deadline, options)));
  return new Map(sources.map((source, index) => [source.name, snapshots[index] as Snapshot]));
}

async function readWithRetry(source: SecretSource, deadline: number, options: ReadAtStartupOptions): Promise<Snapshot> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await source.read(options.signal ?? new AbortController().signal);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      const delay = Math.min(backoffDelay(attempt, STARTUP_BACKOFF), deadline - Date.now());
      if (delay <= 0) {
        throw new SourceUnavailableError(`source "${source.name}" could not be reached at start-up: ${describeError(error)}`, {
          hint: 'check the source, or raise startup.timeout to wait longer',
          cause: error,
        });
      }
      options.log.warn({ source: source.name, attempt: attempt + 1, retryInMs: delay }, `source "${source.name}" not reachable yet: ${describeError(error)}`);
      await sleep(delay, undefined, { signal: options.signal });
    }
  }
}
