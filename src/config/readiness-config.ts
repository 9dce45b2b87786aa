import { ConfigError } from '../errors.js';
import { DEFAULTS } from './defaults.js';
import { parseDuration } from './duration.js';
import type { RawReady } from './schema.js';

/** What tells that a child is ready: a TCP connect, an HTTP GET answering 2xx, or a command exiting 0. */
export type ReadyCheck =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'http'; readonly url: string }
  | { readonly kind: 'command'; readonly argv: readonly [string, ...string[]] };

/** The `ready:` section, checked, with its defaults applied. */
export interface ReadinessConfig {
  readonly check: ReadyCheck;
  /** The child must pass the check within this, counted from its start. */
  readonly timeoutMs: number;
  /** Pause between two tries of the check. */
  readonly intervalMs: number;
}

const EXAMPLES = 'ready: { tcp: 127.0.0.1:8080 }, { http: http://127.0.0.1:8080/healthz } or { command: [/usr/bin/pg_isready, -q] }';

/** Checks and defaults `ready:`: exactly one kind, a port in range, an http(s) URL; undefined when there is no check. */
export function finalizeReady(raw: RawReady | undefined): ReadinessConfig | undefined {
  if (raw === undefined) return undefined;
  const kinds = (['tcp', 'http', 'command'] as const).filter((kind) => raw[kind] !== undefined);
  if (kinds.length !== 1) {
    throw new ConfigError(kinds.length === 0 ? 'ready: names no check: give one of tcp, http and command' : `ready: gives ${kinds.join(' and ')}: give exactly one of tcp, http and command`, {
      hint: `such as ${EXAMPLES}`,
    });
  }
  const timeoutMs = parseDuration(raw.timeout ?? DEFAULTS.readyTimeout);
  const intervalMs = parseDuration(raw.interval ?? DEFAULTS.readyInterval);
  if (timeoutMs === 0) throw new ConfigError('ready.timeout is 0: the child could never be ready in time', { hint: 'use a duration such as 30s' });
  if (intervalMs === 0) throw new ConfigError('ready.interval is 0: the check would be tried in a busy loop', { hint: 'use a duration such as 200ms' });
  return { check: finalizeCheck(raw), timeoutMs, intervalMs };
}

function finalizeCheck(raw: RawReady): ReadyCheck {
  if (raw.tcp !== undefined) {
    const colon = raw.tcp.lastIndexOf(':');
    const port = Number(raw.tcp.slice(colon + 1));
    if (port < 1 || port > 65_535) throw new ConfigError(`ready.tcp: port ${port} is out of range`, { hint: 'use the port the child listens on, from 1 to 65535' });
    return { kind: 'tcp', host: raw.tcp.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
  }
  if (raw.http !== undefined) {
    let url: URL;
    try {
      url = new URL(raw.http);
    } catch {
      throw new ConfigError(`ready.http: "${raw.http}" is not a URL`, { hint: 'use a URL such as http://127.0.0.1:8080/healthz' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`ready.http: ${url.protocol.replace(/:$/, '')} is not http or https`, { hint: 'use a URL such as http://127.0.0.1:8080/healthz' });
    }
    return { kind: 'http', url: url.href };
  }
  return { kind: 'command', argv: raw.command as [string, ...string[]] };
}

/** `tcp 127.0.0.1:8080`, `http http://…/healthz`, `command pg_isready -q`: the check as the log names it. */
export function describeCheck(check: ReadyCheck): string {
  switch (check.kind) {
    case 'tcp':
      return `tcp ${check.host.includes(':') ? `[${check.host}]` : check.host}:${check.port}`;
    case 'http': {
      // A password in the URL is the service's secret: the log shows that there is one, not what it is.
      const shown = new URL(check.url);
      if (shown.password !== '') shown.password = '***';
      return `http ${shown.href}`;
    }
    case 'command':
      return `command ${check.argv.join(' ')}`;
  }
}
