import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultPlan } from '../../servers/aws/faults.js';

/** One request that went through the proxy. */
export interface ProxiedRequest {
  /** `secretsmanager`, `ssm` or `sts`. */
  readonly service: string;
  /** The API action: from `X-Amz-Target` (JSON protocols) or the `Action` form field (STS's Query protocol). */
  readonly action: string;
  /** STS AssumeRole's RoleSessionName and RoleArn (no secret: the ExternalId is not kept). */
  readonly roleSessionName: string | undefined;
  readonly roleArn: string | undefined;
  /** The HTTP status answered (moto's, or the injected fault's); 0 for a dropped connection. */
  readonly status: number;
  /** When it arrived (ms since the epoch). */
  readonly at: number;
}

/** A loopback HTTP proxy in front of moto that records every AWS call and can answer some with AWS errors instead. */
export interface AwsProxy {
  /** `http://127.0.0.1:PORT`: give it to secretvisor as the endpoint. */
  readonly endpoint: string;
  readonly requests: ProxiedRequest[];
  /** Faults answered instead of moto (ThrottlingException, AccessDeniedException, 5xx, resets), as the project's own server does. */
  readonly faults: FaultPlan;
  /** How many requests for `action` went through (answered 200 when `ok` is true). */
  count(action: string, options?: { readonly ok?: boolean }): number;
  stop(): Promise<void>;
}

const JSON_ERRORS = {
  throttle: [400, 'ThrottlingException', 'Rate exceeded'],
  internal: [500, 'InternalServerError', 'An error occurred on the server side.'],
  unavailable: [503, 'ServiceUnavailable', 'The service is unavailable. Please try again later.'],
  accessDenied: [400, 'AccessDeniedException', 'User is not authorized to perform this operation.'],
  expiredToken: [400, 'ExpiredTokenException', 'The security token included in the request is expired'],
} as const;

/**
 * Starts a proxy on 127.0.0.1 (random port) that forwards every request to
 * `upstream` unchanged (moto does not check signatures, so the Host header
 * may stay as signed) and counts it by action. Faults apply to the JSON
 * protocols (Secrets Manager, SSM) only; moto answers everything else.
 */
export async function startAwsProxy(upstream: string): Promise<AwsProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  const faults = new FaultPlan();
  const server = createServer((incoming, outgoing) => {
    void forward(incoming, outgoing);
  });

  async function forward(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const at = Date.now();
    const amzTarget = incoming.headers['x-amz-target'];
    const form = typeof amzTarget === 'string' ? undefined : new URLSearchParams(body.toString('utf8'));
    const [prefix, action] = typeof amzTarget === 'string' ? splitTarget(amzTarget) : ['sts', form?.get('Action') ?? ''];
    const record = (status: number): void => {
      requests.push({
        service: prefix,
        action,
        roleSessionName: form?.get('RoleSessionName') ?? undefined,
        roleArn: form?.get('RoleArn') ?? undefined,
        status,
        at,
      });
    };
    const { delayMs, failure } = typeof amzTarget === 'string' ? faults.take(action) : { delayMs: 0, failure: undefined };
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (failure?.kind === 'reset') {
      record(0);
      incoming.socket.destroy();
      return;
    }
    if (failure?.kind === 'oversized') {
      outgoing.writeHead(501).end('oversized answers are made by test/servers/aws-server.ts');
      record(501);
      return;
    }
    if (failure !== undefined && failure.kind !== 'latency') {
      const [status, type, message] = JSON_ERRORS[failure.kind];
      const payload = JSON.stringify({ __type: type, message });
      outgoing.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(payload) });
      outgoing.end(payload);
      record(status);
      return;
    }
    const upstreamRequest = httpRequest({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
      record(answer.statusCode ?? 502);
    });
    upstreamRequest.on('error', () => {
      record(0);
      incoming.socket.destroy();
    });
    upstreamRequest.end(body);
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    faults,
    count(action, options = {}) {
      return requests.filter((entry) => entry.action === action && (options.ok === undefined || (entry.status === 200) === options.ok)).length;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `secretsmanager.GetSecretValue` → [`secretsmanager`, `GetSecretValue`]; `AmazonSSM.GetParameters` → [`ssm`, `GetParameters`]. */
function splitTarget(amzTarget: string): [string, string] {
  const dot = amzTarget.indexOf('.');
  const prefix = amzTarget.slice(0, dot);
  return [prefix === 'AmazonSSM' ? 'ssm' : prefix.toLowerCase(), amzTarget.slice(dot + 1)];
}
