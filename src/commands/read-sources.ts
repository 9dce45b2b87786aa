import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Identity } from '../scope/resolve-layers.js';
import { createSource } from '../sources/create-source.js';
import { readAtStartup } from '../sources/read-at-startup.js';
import type { SecretSource, Snapshot } from '../sources/source.js';

/** Options of {@link readSources}. */
export interface ReadSourcesOptions {
  readonly config: Config;
  /** The sources to read, by name. */
  readonly names: readonly string[];
  readonly identity: Identity;
  /** secretvisor's own environment (source settings such as VAULT_ADDR). */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** True when no value read will leave the process: dynamic credentials are revoked at once. */
  readonly discardValues?: boolean;
}

/**
 * Reads the named sources once, with the start-up retries, and closes them:
 * the one-shot commands see exactly what `run` would start with.
 */
export async function readSources(options: ReadSourcesOptions): Promise<Map<string, Snapshot>> {
  const sources: SecretSource[] = [];
  try {
    for (const name of options.names) {
      const config = options.config.sources.get(name);
      if (config === undefined) continue;
      sources.push(await createSource({ config, log: options.log.child({ component: `source:${name}` }), env: options.env, ...options.identity }));
    }
    return await readAtStartup(sources, { timeoutMs: options.config.startupTimeoutMs, log: options.log });
  } finally {
    await Promise.allSettled(sources.map((source) => source.close({ revokeLeases: options.discardValues === true })));
  }
}
