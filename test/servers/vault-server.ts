import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { TokenStore } from './vault/tokens.js';
import { SecretStore } from './vault/secrets.js';
import { RequestLog, VaultFaults } from './vault/faults.js';
import { routeRequest } from './vault/router.js';
import { fail, faultReply, type VaultReply } from './vault/envelope.js';
import type { MountType, VaultBackend, VaultRequest } from './vault/request.js';

export type { MountType } from './vault/request.js';
export type { LoggedRequest, RequestFilter } from './vault/faults.js';
export type { Lease } from './vault/secrets.js';

/** Options of {@link startVaultServer}. */
export interface VaultServerOptions {
  /** Secrets engines by mount path; default `secret` (KV v2), `kv` (KV v1), `database`. */
  readonly mounts?: Readonly<Record<string, MountType>>;
  /** Namespaces that exist besides the root one. */
  readonly namespaces?: readonly string[];
  /** Serve HTTPS with this PEM key and certificate (see `makeTestCertificate`). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** A running test Vault: its address, its state to arrange and inspect, its faults to switch. */
export interface VaultServer {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`), for `address:` or VAULT_ADDR. */
  readonly address: string;
  readonly tokens: TokenStore;
  readonly secrets: SecretStore;
  readonly faults: VaultFaults;
  readonly requestLog: RequestLog;
  /** Stops listening and drops every open connection. */
  stop(): Promise<void>;
}

const DEFAULT_MOUNTS: Record<string, MountType> = { secret: 'kv-v2', kv: 'kv-v1', database: 'database' };
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Starts a Vault-compatible HTTP server on 127.0.0.1 with a random port. It
 * follows Vault's documented HTTP API (envelopes, `{"errors": [...]}`,
 * status codes, `X-Vault-Token`, `X-Vault-Namespace`) closely enough for
 * node-vault and secretvisor's own client, and lets a test inject faults at run time.
 */
export async function startVaultServer(options: VaultServerOptions = {}): Promise<VaultServer> {
  const backend: VaultBackend = {
    tokens: new TokenStore(),
    secrets: new SecretStore(),
    mounts: new Map(Object.entries(options.mounts ?? DEFAULT_MOUNTS)),
    namespaces: new Set((options.namespaces ?? []).map(trimSlashes)),
  };
  const faults = new VaultFaults();
  const requestLog = new RequestLog();
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handleHttp(req, res, { backend, faults, requestLog }).catch(() => res.destroy());
  };
  const server = options.tls === undefined ? createServer(listener) : createTlsServer(options.tls, listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    address: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    tokens: backend.tokens,
    secrets: backend.secrets,
    faults,
    requestLog,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface ServerParts {
  readonly backend: VaultBackend;
  readonly faults: VaultFaults;
  readonly requestLog: RequestLog;
}

async function handleHttp(req: IncomingMessage, res: ServerResponse, parts: ServerParts): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://vault');
  const apiPath = url.pathname.startsWith('/v1/') ? url.pathname.slice(4).replace(/\/+$/, '') : undefined;
  const namespace = trimSlashes(header(req, 'x-vault-namespace') ?? '');
  const method = url.searchParams.get('list') === 'true' ? 'LIST' : (req.method ?? 'GET').toUpperCase();
  const entry = parts.requestLog.add(method, apiPath ?? url.pathname, namespace);
  const raw = await readBody(req);
  const { faults } = parts;
  const faulty = apiPath !== undefined && faults.applies(apiPath);
  if (faulty && faults.latencyMs > 0) await delay(faults.latencyMs);
  if (faulty && faults.resetConnections) {
    req.socket.destroy();
    return;
  }
  if (faulty && faults.redirectTo !== undefined) {
    entry.status = faults.redirectStatus;
    res.writeHead(faults.redirectStatus, { Location: `${faults.redirectTo}${url.pathname}${url.search}` }).end();
    return;
  }
  const reply = await getReply({ apiPath, method, namespace, raw, url, req }, parts, faulty);
  entry.status = reply.status;
  send(res, reply);
}

interface RawRequest {
  readonly apiPath: string | undefined;
  readonly method: string;
  readonly namespace: string;
  readonly raw: string | undefined;
  readonly url: URL;
  readonly req: IncomingMessage;
}

function getReply(request: RawRequest, parts: ServerParts, faulty: boolean): VaultReply | Promise<VaultReply> {
  if (request.apiPath === undefined) return fail(404);
  if (request.raw === undefined) return fail(413, 'request body too large');
  const { faults } = parts;
  if (faulty && faults.status !== undefined && !(faults.sealed && request.apiPath === 'sys/health')) {
    return faultReply(faults.status);
  }
  let body: Record<string, unknown> = {};
  if (request.raw.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(request.raw);
      body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch (error) {
      return fail(400, `failed to parse JSON input: ${(error as Error).message}`);
    }
  }
  const apiRequest: VaultRequest = {
    method: request.method,
    path: request.apiPath,
    query: request.url.searchParams,
    namespace: request.namespace,
    token: header(request.req, 'x-vault-token') ?? bearer(header(request.req, 'authorization')),
    body,
  };
  return routeRequest(apiRequest, parts.backend, faulty && faults.sealed);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: VaultReply): void {
  if (reply.body === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearer(value: string | undefined): string | undefined {
  return value?.startsWith('Bearer ') === true ? value.slice(7) : undefined;
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}
