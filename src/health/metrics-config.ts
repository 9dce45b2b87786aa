import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import type { RawMetrics } from './metrics-schema.js';

/** Where the health listener of one process listens; `host` is without the brackets of an IPv6 address. */
export interface MetricsConfig {
  readonly host: string;
  readonly port: number;
}

/** The `metrics:` section, checked: every address in range and, unless allowed, on loopback. */
export interface MetricsSection {
  readonly listen: MetricsConfig;
  readonly services: ReadonlyMap<string, MetricsConfig>;
  readonly pools: ReadonlyMap<string, ReadonlyMap<string, MetricsConfig>>;
}

/** The services and pools of a config, by name (the finalized scopes, or the raw ones for `status`). */
export interface ScopeNames {
  readonly services: ReadonlyMap<string, unknown>;
  readonly pools: ReadonlyMap<string, ReadonlyMap<string, unknown>>;
}

/** Checks the `metrics:` section against the config's services and pools; undefined when there is none (no listener). */
export function finalizeMetrics(raw: RawMetrics | undefined, scopes: ScopeNames): MetricsSection | undefined {
  if (raw === undefined) return undefined;
  const allow = raw.allowNonLoopback === true;
  const services = new Map(
    Object.entries(raw.services ?? {}).map(([name, text]) => {
      if (!scopes.services.has(name)) throw unknown(`metrics.services.${name}`, `service "${name}" under scopes.services`, [...scopes.services.keys()]);
      return [name, parseAddress(text, `metrics.services.${name}`, allow)];
    }),
  );
  const pools = new Map(
    Object.entries(raw.pools ?? {}).map(([service, entries]) => {
      const known = scopes.pools.get(service);
      return [
        service,
        new Map(
          Object.entries(entries).map(([pool, text]) => {
            const where = `metrics.pools.${service}.${pool}`;
            if (known?.has(pool) !== true) throw unknown(where, `pool "${pool}" under scopes.pools.${service}`, [...(known?.keys() ?? [])]);
            return [pool, parseAddress(text, where, allow)];
          }),
        ),
      ];
    }),
  );
  return { listen: parseAddress(raw.listen, 'metrics.listen', allow), services, pools };
}

/** The listener address of one process: its pool's entry, else its service's, else metrics.listen. */
export function metricsAddressFor(section: MetricsSection, identity: { readonly service: string | undefined; readonly pool: string | undefined }): MetricsConfig {
  const { service, pool } = identity;
  if (service === undefined) return section.listen;
  return (pool === undefined ? undefined : section.pools.get(service)?.get(pool)) ?? section.services.get(service) ?? section.listen;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped, such as ::ffff:127.0.0.1), and localhost. */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

function unknown(where: string, what: string, known: readonly string[]): ConfigError {
  return new ConfigError(`${where}: there is no ${what}`, { hint: known.length === 0 ? 'add it under scopes:, or remove it here' : `use one of: ${known.join(', ')}` });
}

function parseAddress(text: string, where: string, allowNonLoopback: boolean): MetricsConfig {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (port > 65_535) throw new ConfigError(`${where}: port ${port} is out of range`, { hint: 'use a port from 1 to 65535' });
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  if (!allowNonLoopback && !isLoopback(host)) {
    throw new ConfigError(
      `${where} is ${text}, which is not a loopback address: the health listener has no authentication, and would show every host on that network how fresh this service's secrets are`,
      {
        hint: 'listen on 127.0.0.1:PORT or [::1]:PORT (scrape through a local agent), or set metrics.allowNonLoopback: true behind a firewall',
      },
    );
  }
  return { host, port };
}
