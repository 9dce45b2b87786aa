import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULTS } from '../config/defaults.js';
import type { RawListen } from './listen-schema.js';

/** A held TCP socket, checked. */
export interface TcpListenConfig {
  readonly kind: 'tcp';
  readonly name: string;
  /** Without the brackets of an IPv6 address. */
  readonly host: string;
  readonly port: number;
  readonly backlog: number;
}

/** A held Unix socket, checked; `path` is absolute. */
export interface UnixListenConfig {
  readonly kind: 'unix';
  readonly name: string;
  readonly path: string;
  readonly mode: number;
  readonly user: string | number | undefined;
  readonly group: string | number | undefined;
  readonly backlog: number;
}

/** One `listen:` entry with its defaults applied. */
export type ListenConfig = TcpListenConfig | UnixListenConfig;

/** Checks and defaults the `listen:` list: unique names and addresses, ports in range, paths absolute. */
export function finalizeListen(raw: readonly RawListen[], baseDir: string): ListenConfig[] {
  const names = new Set<string>();
  const places = new Set<string>();
  return raw.map((entry, index) => {
    const where = `listen[${index}]`;
    if (names.has(entry.name)) throw new ConfigError(`${where}.name "${entry.name}" is used by another listen: entry`, { hint: 'give each socket its own name' });
    names.add(entry.name);
    const config = 'tcp' in entry ? finalizeTcp(entry, where) : finalizeUnix(entry, baseDir);
    const place = config.kind === 'tcp' ? `${config.host}:${config.port}` : config.path;
    // Port 0 asks the kernel for a free port: two such entries never clash.
    if (places.has(place) && !place.endsWith(':0')) throw new ConfigError(`${where} listens on ${place}, as another listen: entry does`, { hint: 'remove one of them' });
    places.add(place);
    return config;
  });
}

function finalizeTcp(entry: Extract<RawListen, { tcp: string }>, where: string): TcpListenConfig {
  const colon = entry.tcp.lastIndexOf(':');
  const port = Number(entry.tcp.slice(colon + 1));
  if (port > 65_535) throw new ConfigError(`${where}.tcp: port ${port} is out of range`, { hint: 'use a port from 1 to 65535 (0 picks a free one)' });
  const host = entry.tcp.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', name: entry.name, host, port, backlog: entry.backlog ?? DEFAULTS.listenBacklog };
}

function finalizeUnix(entry: Extract<RawListen, { unix: string }>, baseDir: string): UnixListenConfig {
  return {
    kind: 'unix',
    name: entry.name,
    path: resolve(baseDir, entry.unix),
    mode: Number.parseInt(entry.mode ?? DEFAULTS.listenUnixMode, 8),
    user: entry.user,
    group: entry.group,
    backlog: entry.backlog ?? DEFAULTS.listenBacklog,
  };
}
