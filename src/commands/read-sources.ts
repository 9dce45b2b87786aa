import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Identity } from '../scope/resolve-layers.js';
import { SourceSet } from '../sources/source-set.js';
import type { Snapshot } from '../sources/source.js';

/** Options of {@link readSources}. */
export interface ReadSourcesOptions {
  readonly config: Config;
  /** The sources to read, by name. */
  readonly names: readonly string[];
  readonly identity: Identity;
  /** secretvisor's own environment (source settings such as VAULT_ADDR). */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly clock: Clock;
  /** True when no value read will leave the process: dynamic credentials are revoked at once. */
  readonly discardValues?: boolean;
}

/**
 * Reads the named sources once, with the start-up retries, and closes them:
 * the one-shot commands see exactly what `run` would start with.
 */
export async function readSources(options: ReadSourcesOptions): Promise<ReadonlyMap<string, Snapshot>> {
  const sources = await SourceSet.create(options);
  try {
    return await sources.readAtStartup(options.config.startupTimeoutMs);
  } finally {
    await sources.close({ revokeLeases: options.discardValues === true });
  }
}
