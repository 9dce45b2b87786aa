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
}

/** Checks the `metrics:` section against the config's services; undefined when there is none (no listener). */
export function finalizeMetrics(raw: RawMetrics | undefined, serviceNames: readonly string[]): MetricsSection | undefined {
  if (raw === undefined) return undefined;
  const allow = raw.allowNonLoopback === true;
  const unknown = Object.keys(raw.services ?? {}).find((name) => !serviceNames.includes(name));
  if (unknown !== undefined) {
    throw new ConfigError(`metrics.services.${unknown}: there is no service "${unknown}" under scopes.services`, {
      hint: serviceNames.length === 0 ? 'add the service under scopes.services, or remove it here' : `use one of: ${serviceNames.join(', ')}`,
    });
  }
  const services = new Map(Object.entries(raw.services ?? {}).map(([name, text]) => [name, parseAddress(text, `metrics.services.${name}`, allow)]));
  return { listen: parseAddress(raw.listen, 'metrics.listen', allow), services };
}

/** The listener address of `service` (its own entry, else metrics.listen). */
export function metricsAddressFor(section: MetricsSection, service: string | undefined): MetricsConfig {
  return (service === undefined ? undefined : section.services.get(service)) ?? section.listen;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped, such as ::ffff:127.0.0.1), and localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

function parseAddress(text: string, where: string, allowNonLoopback: boolean): MetricsConfig {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (port > 65_535) throw new ConfigError(`${where}: port ${port} is out of range`, { hint: 'use a port from 1 to 65535' });
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  if (!allowNonLoopback && !isLoopback(host)) {
    throw new ConfigError(`${where} is ${text}, which is not a loopback address: the health listener has no authentication, and would show every host on that network how fresh this service's secrets are`, {
      hint: 'listen on 127.0.0.1:PORT or [::1]:PORT (scrape through a local agent), or set metrics.allowNonLoopback: true behind a firewall',
    });
  }
  return { host, port };
}
