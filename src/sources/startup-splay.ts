import { sleepOn, type Clock } from '../clock.js';
import { isFileSourceKind, type Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { jitter } from '../watch/backoff.js';

/** What {@link waitStartupSplay} needs besides the config. */
export interface StartupSplayOptions {
  readonly log: Logger;
  /** Ends the wait early: secretvisor is stopping. */
  readonly signal: AbortSignal;
  /** The wait and its random share run on it. */
  readonly clock: Clock;
}

/**
 * Waits `startup.splay` × a random share before the first read when any of
 * the named sources is remote: a fleet that boots within a minute (a region's
 * power back, a base-image rollout) then reaches the store spread over the
 * splay instead of inside its quota's second. File sources never wait.
 * Resolves early when `signal` aborts (secretvisor is stopping).
 */
export async function waitStartupSplay(config: Config, names: readonly string[], options: StartupSplayOptions): Promise<void> {
  if (config.startupSplayMs === 0) return;
  const remote = names.filter((name) => {
    const source = config.sources.get(name);
    return source !== undefined && !isFileSourceKind(source.type);
  });
  if (remote.length === 0) return;
  const delayMs = jitter(config.startupSplayMs, () => options.clock.random());
  options.log.info({ delayMs, splayMs: config.startupSplayMs, sources: remote }, `waiting ${delayMs} ms (startup.splay) before the first read of ${remote.join(', ')}`);
  await sleepOn(options.clock, delayMs, options.signal);
}
