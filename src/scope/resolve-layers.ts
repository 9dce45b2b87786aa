import type { ScopesConfig } from '../config/config.js';
import { UsageError } from '../errors.js';

export type ScopeName = 'global' | 'service' | 'pool';

/** The sources of one scope, in override order. */
export interface Layer {
  readonly scope: ScopeName;
  readonly sources: readonly string[];
}

/** Who this process is: a service and, optionally, one pool of it. */
export interface Identity {
  readonly service: string | undefined;
  readonly pool: string | undefined;
}

/**
 * The layers a service/pool receives, global first, so that later layers
 * override earlier ones. A service or pool the config does not know is a
 * usage error listing the ones it does.
 */
export function resolveLayers(scopes: ScopesConfig, identity: Identity): Layer[] {
  const layers: Layer[] = [{ scope: 'global', sources: scopes.global }];
  const { service, pool } = identity;
  if (service === undefined) {
    if (pool !== undefined) throw new UsageError(`--pool ${pool} needs --service`, { hint: 'add --service NAME (or SECRETVISOR_SERVICE)' });
    return layers;
  }
  const services = scopes.services.get(service);
  const pools = scopes.pools.get(service);
  if (services === undefined && pools === undefined) {
    throw new UsageError(`unknown service "${service}"`, { hint: `use one of: ${knownServices(scopes).join(', ') || '(none configured under scopes:)'}` });
  }
  layers.push({ scope: 'service', sources: services ?? [] });
  if (pool === undefined) return layers;
  const poolSources = pools?.get(pool);
  if (poolSources === undefined) {
    throw new UsageError(`unknown pool "${pool}" of service "${service}"`, {
      hint: `use one of: ${[...(pools?.keys() ?? [])].join(', ') || `(no pools configured under scopes.pools.${service})`}`,
    });
  }
  layers.push({ scope: 'pool', sources: poolSources });
  return layers;
}

/** Every source name the layers use, each once, in order. */
export function sourcesOf(layers: readonly Layer[]): string[] {
  return [...new Set(layers.flatMap((layer) => layer.sources))];
}

function knownServices(scopes: ScopesConfig): string[] {
  return [...new Set([...scopes.services.keys(), ...scopes.pools.keys()])];
}
