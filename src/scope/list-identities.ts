import type { ScopesConfig } from '../config/config.js';
import type { Identity } from './resolve-layers.js';

/** Every identity a config defines: the global scope alone, each service, and each pool of each service. */
export function listIdentities(scopes: ScopesConfig): Identity[] {
  const services = [...new Set([...scopes.services.keys(), ...scopes.pools.keys()])];
  return [
    { service: undefined, pool: undefined },
    ...services.flatMap((service) => [{ service, pool: undefined }, ...[...(scopes.pools.get(service)?.keys() ?? [])].map((pool) => ({ service, pool }))]),
  ];
}
