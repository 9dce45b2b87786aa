/**
 * Faults a test switches on and off while the server runs. Each applies to
 * every request unless `paths` limits it to paths starting with one of its
 * prefixes (as logged: `secret/data/app`, `auth/approle/login`).
 */
export class VaultFaults {
  /** Answer 503 `{"errors":["Vault is sealed"]}` (and a sealed `sys/health`). */
  sealed = false;
  /** Answer this status (500, 502, 503, 403, 429…) with a Vault error body instead of doing the work. */
  status: number | undefined = undefined;
  /** Wait this long before answering. */
  latencyMs = 0;
  /** Destroy the connection without answering. */
  resetConnections = false;
  /** Answer a redirect to this origin (`http://127.0.0.1:1234`), same path and query, as an HA standby or a hijacked proxy would. */
  redirectTo: string | undefined = undefined;
  /** The status of that redirect. */
  redirectStatus = 307;
  /** Limit the faults to paths starting with one of these. */
  paths: readonly string[] | undefined = undefined;

  /** Turns every fault off. */
  clear(): void {
    this.sealed = false;
    this.status = undefined;
    this.latencyMs = 0;
    this.resetConnections = false;
    this.redirectTo = undefined;
    this.redirectStatus = 307;
    this.paths = undefined;
  }

  /** True when the faults apply to a request for `path`. */
  applies(path: string): boolean {
    return this.paths === undefined || this.paths.some((prefix) => path.startsWith(prefix));
  }
}

/** One request the server received. Bodies and headers are not kept: they hold credentials. */
export interface LoggedRequest {
  readonly method: string;
  /** The API path without `/v1/` and without the query string. */
  readonly path: string;
  readonly namespace: string;
  /** The status answered; undefined when the connection was dropped. */
  status: number | undefined;
  readonly at: number;
}

/** Which logged requests to count; every field that is set must match. */
export interface RequestFilter {
  readonly method?: string;
  /** Exact path, or a prefix when it ends with `*`. */
  readonly path?: string;
  readonly namespace?: string;
  readonly status?: number;
}

/** Every request in arrival order, for tests and the benchmark to count. */
export class RequestLog {
  readonly entries: LoggedRequest[] = [];

  /** Records a request and returns its entry, whose status is filled in when answered. */
  add(method: string, path: string, namespace: string): LoggedRequest {
    const entry: LoggedRequest = { method, path, namespace, status: undefined, at: Date.now() };
    this.entries.push(entry);
    return entry;
  }

  /** How many requests match `filter` (all when omitted). */
  count(filter: RequestFilter = {}): number {
    return this.entries.filter((entry) => matches(entry, filter)).length;
  }

  /** Forgets every request so far. */
  clear(): void {
    this.entries.length = 0;
  }
}

function matches(entry: LoggedRequest, filter: RequestFilter): boolean {
  if (filter.method !== undefined && entry.method !== filter.method) return false;
  if (filter.namespace !== undefined && entry.namespace !== filter.namespace) return false;
  if (filter.status !== undefined && entry.status !== filter.status) return false;
  if (filter.path === undefined) return true;
  return filter.path.endsWith('*') ? entry.path.startsWith(filter.path.slice(0, -1)) : entry.path === filter.path;
}
