import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { resolveLayers, sourcesOf, type Identity } from '../scope/resolve-layers.js';
import { createSource } from '../sources/create-source.js';
import { readAtStartup } from '../sources/read-at-startup.js';
import { resolvePlan, type Resolution } from '../render/resolve-plan.js';
import type { SecretSource } from '../sources/source.js';

/** Options of {@link resolveOnce}. */
export interface ResolveOnceOptions {
  readonly config: Config;
  readonly identity: Identity;
  /** secretvisor's own environment (source settings such as VAULT_ADDR). */
  readonly env: NodeJS.ProcessEnv;
  /** The environment the child would inherit from; `{}` to see only what secretvisor adds. */
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** Where file outputs would go, for the path pointers in env. */
  readonly runtimeDir: string | undefined;
}

/**
 * Reads every source the identity may see once (with the start-up retries),
 * resolves the plan, and closes the sources: what `check`, `env` and
 * `render` show is exactly what `run` would start the child with.
 */
export async function resolveOnce(options: ResolveOnceOptions): Promise<Resolution> {
  const layers = resolveLayers(options.config.scopes, options.identity);
  const sources: SecretSource[] = [];
  try {
    for (const name of sourcesOf(layers)) {
      const config = options.config.sources.get(name);
      if (config === undefined) continue;
      sources.push(await createSource({ config, log: options.log.child({ component: `source:${name}` }), env: options.env, ...options.identity }));
    }
    const snapshots = await readAtStartup(sources, { timeoutMs: options.config.startupTimeoutMs, log: options.log });
    return resolvePlan({
      config: options.config,
      layers,
      snapshots,
      parentEnv: options.parentEnv,
      runtimeDir: options.runtimeDir,
      argv: [],
      log: options.log,
    });
  } finally {
    await Promise.allSettled(sources.map((source) => source.close()));
  }
}
