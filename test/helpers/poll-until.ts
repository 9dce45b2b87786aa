/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** How long to keep probing; 15 s unless given. */
  readonly timeoutMs?: number;
  /** The pause between two probes; 20 ms unless given. */
  readonly intervalMs?: number;
  /** What a failure shows besides what was awaited, taken after the last probe: the output, the records, the last answer. */
  readonly detail?: () => string | Promise<string>;
  /** Why waiting longer is pointless (the process that would bring it about has exited), or undefined to go on. */
  readonly giveUp?: () => string | undefined;
}

/** The wait of {@link pollUntil} ran out, or was given up. */
export class PollTimeoutError extends Error {}

/**
 * Calls `probe` until it returns something other than undefined or false,
 * and resolves with that. After `timeoutMs` (one last probe included), or
 * once `giveUp` names a reason, rejects with what was awaited, for how long,
 * and the `detail` of the last probe.
 */
export async function pollUntil<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, options: PollOptions = {}): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 20 } = options;
  const started = Date.now();
  for (;;) {
    // Asked before the probe, so that the probe still sees whatever came before the end.
    const reason = options.giveUp?.();
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    const waited = Date.now() - started;
    if (reason !== undefined || waited > timeoutMs) {
      const detail = options.detail === undefined ? '' : `\n${await options.detail()}`;
      const why = reason === undefined ? `timed out after ${timeoutMs} ms waiting for ${what}` : `${reason} while waiting for ${what} (after ${waited} ms)`;
      throw new PollTimeoutError(`${why}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
