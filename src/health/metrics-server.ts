import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { ExitCode, SecretvisorError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HealthModel } from './health-model.js';
import type { MetricsConfig } from './metrics-config.js';
import { createMetricsRenderer, type MetricsRenderer } from './metrics-registry.js';

/** The health listener, open. */
export interface MetricsServer {
  /** The address it listens on (the real port when the config asked for 0). */
  readonly url: string;
  close(): Promise<void>;
}

/** What {@link startMetricsServer} needs. */
export interface MetricsServerOptions {
  readonly address: MetricsConfig;
  readonly model: HealthModel;
  readonly log: Logger;
}

/**
 * Opens the health listener: `/metrics` (Prometheus text), `/healthz` (200
 * when healthy, else 503 with the reasons) and `/status` (the report as
 * JSON); GET and HEAD only. A port that cannot be opened fails start-up
 * (exit 69): the operator asked for it.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const renderer = await createMetricsRenderer();
  const log = options.log.child({ component: 'metrics' });
  const server = createServer((request, response) => void answer(request, response, options.model, renderer, log));
  // Keep-alive sockets of a scraper would hold a stop for their idle timeout.
  server.keepAliveTimeout = 5_000;
  const { host, port } = options.address;
  const place = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  try {
    server.listen({ host, port });
    await once(server, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SecretvisorError(ExitCode.unavailable, `metrics.listen ${place} cannot be opened: ${code ?? (error as Error).message}`, {
      hint: code === 'EADDRINUSE' ? 'another process listens there: pick a free port in metrics.listen (or metrics.services.NAME for each service)' : 'check the address in metrics.listen',
      cause: error,
    });
  }
  const bound = server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${typeof bound === 'object' && bound !== null ? bound.port : port}`;
  log.info({ url }, `health listener on ${url} (/metrics, /healthz, /status)`);
  return { url, close: () => closeServer(server) };
}

async function answer(request: IncomingMessage, response: ServerResponse, model: HealthModel, renderer: MetricsRenderer, log: Logger): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', { allow: 'GET, HEAD' });
  try {
    const report = model.report();
    switch (path) {
      case '/metrics':
        return send(response, 200, renderer.contentType, await renderer.render(report));
      case '/healthz':
        return report.healthy ? send(response, 200, 'text/plain; charset=utf-8', 'ok\n') : send(response, 503, 'text/plain; charset=utf-8', `unhealthy: ${report.reasons.join('; ')}\n`);
      case '/status':
        return send(response, 200, 'application/json', `${JSON.stringify(report, null, 2)}\n`);
      default:
        return send(response, 404, 'text/plain; charset=utf-8', 'not found: use /metrics, /healthz or /status\n');
    }
  } catch (error) {
    log.error({ path, err: (error as Error).message }, `health listener: ${path} failed: ${(error as Error).message}`);
    send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
