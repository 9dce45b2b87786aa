import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { resolveLayers, sourcesOf, type Identity } from '../scope/resolve-layers.js';
import { resolvePlan, type Resolution } from '../render/resolve-plan.js';
import { readSources } from './read-sources.js';

/** Options of {@link resolveOnce}. */
export interface ResolveOnceOptions {
  readonly config: Config;
  readonly identity: Identity;
  /** secretvisor's own environment (source settings such as VAULT_ADDR). */
  readonly env: NodeJS.ProcessEnv;
  /** The environment the child would inherit from; `{}` to see only what secretvisor adds. */
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly clock: Clock;
  /** Where file outputs would go, for the path pointers in env. */
  readonly runtimeDir: string | undefined;
  /** True when no value will leave the process (masked `env`): dynamic credentials are revoked at once. */
  readonly discardValues?: boolean;
}

/**
 * Reads every source the identity may see once and resolves the plan: what
 * `check`, `env` and `render` show is exactly what `run` would start the
 * child with.
 */
export async function resolveOnce(options: ResolveOnceOptions): Promise<Resolution> {
  const layers = resolveLayers(options.config.scopes, options.identity);
  const snapshots = await readSources({ ...options, names: sourcesOf(layers) });
  return resolvePlan({ ...options, layers, snapshots, argv: [] });
}
