import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { FaultPlan, type AwsFault } from './aws/faults.js';
import { IdentityRegistry, type AwsRole, type AwsUser, type Principal } from './aws/identities.js';
import { RequestLog, type AwsRequestRecord } from './aws/request-log.js';
import { SecretStore } from './aws/secret-store.js';
import { handleSecretsManager, jsonError, type ApiAnswer } from './aws/secrets-manager-api.js';
import { isValidSignature, parseAuthorization } from './aws/sigv4.js';
import { handleSts, stsError, type StsAnswer } from './aws/sts-api.js';

export type { AwsFault, AwsFaultKind } from './aws/faults.js';
export type { AwsRole, AwsUser } from './aws/identities.js';
export type { AwsRequestRecord } from './aws/request-log.js';

/** Options of {@link startAwsServer}. */
export interface AwsServerOptions {
  /** Long-term access keys the server accepts. */
  readonly users?: readonly AwsUser[];
  /** Roles AssumeRole can issue sessions for. */
  readonly roles?: readonly AwsRole[];
  /** The region in secret ARNs; default `us-east-1`. */
  readonly region?: string;
  /** Lifetime of assumed-role credentials; default one hour. */
  readonly sessionTtlSeconds?: number;
}

/** A running test server: one loopback endpoint for both Secrets Manager and STS. */
export interface AwsServer {
  /** `http://127.0.0.1:PORT`, for `endpoint`, `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL_STS`. */
  readonly endpoint: string;
  readonly secrets: SecretStore;
  readonly faults: FaultPlan;
  readonly requestLog: RequestLog;
  readonly identities: IdentityRegistry;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
// SSM is spoken only as far as its faults: a signed request is accepted, and only an injected fault answers it usefully.
const SSM_TARGET_PREFIX = 'AmazonSSM.';

interface Outcome {
  readonly status: number;
  readonly contentType: string;
  readonly payload: string;
  readonly errorCode: string | undefined;
  readonly valuesTransferred: number;
  readonly targets: readonly string[];
  readonly roleSessionName: string | undefined;
}

interface Authenticated {
  readonly principal: Principal;
}

/**
 * Starts a server on 127.0.0.1 (random port) that speaks Secrets Manager's
 * JSON 1.1 protocol and STS's Query protocol well enough for the real AWS SDK,
 * checks SigV4 signatures against the users and sessions it knows, and lets
 * tests inject faults and count requests.
 */
export async function startAwsServer(options: AwsServerOptions = {}): Promise<AwsServer> {
  const secrets = new SecretStore(options.region ?? 'us-east-1');
  const faults = new FaultPlan();
  const requestLog = new RequestLog();
  const identities = new IdentityRegistry(options.users ?? [], options.roles ?? [], (options.sessionTtlSeconds ?? 3600) * 1000);
  const server = createServer((request, response) => {
    void handle(request, response, { secrets, faults, requestLog, identities });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    secrets,
    faults,
    requestLog,
    identities,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface ServerState {
  readonly secrets: SecretStore;
  readonly faults: FaultPlan;
  readonly requestLog: RequestLog;
  readonly identities: IdentityRegistry;
}

async function handle(request: IncomingMessage, response: ServerResponse, state: ServerState): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const target = request.headers['x-amz-target'];
  const service = typeof target !== 'string' ? 'sts' : target.startsWith(SSM_TARGET_PREFIX) ? 'ssm' : 'secretsmanager';
  const params = service === 'sts' ? new URLSearchParams(body.toString('utf8')) : undefined;
  const action = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : (params?.get('Action') ?? '');
  const authorization = parseAuthorization(request.headers.authorization);
  const auth = authenticate(request, body, service, state.identities);
  const record = (outcome: Pick<Outcome, 'status' | 'errorCode'> & Partial<Outcome>): void => {
    const entry: AwsRequestRecord = {
      service,
      action,
      accessKeyId: authorization?.accessKeyId,
      principal: 'principal' in auth ? auth.principal.arn : undefined,
      roleArn: 'principal' in auth ? auth.principal.roleArn : undefined,
      targets: outcome.targets ?? [],
      status: outcome.status,
      errorCode: outcome.errorCode,
      valuesTransferred: outcome.valuesTransferred ?? 0,
      roleSessionName: outcome.roleSessionName,
    };
    state.requestLog.add(entry);
  };

  if (!('principal' in auth)) {
    respond(response, auth);
    record(auth);
    return;
  }
  const { delayMs, failure } = state.faults.take(action);
  if (delayMs > 0) await delay(delayMs);
  if (failure?.kind === 'reset') {
    request.socket.destroy();
    record({ status: 0, errorCode: 'ConnectionReset' });
    return;
  }
  if (failure?.kind === 'oversized') {
    await streamOversized(response, failure);
    record({ status: 200, errorCode: undefined });
    return;
  }
  const outcome =
    failure !== undefined
      ? faultOutcome(failure, service)
      : service === 'secretsmanager'
        ? secretsManagerOutcome(request, body, action, auth.principal, state.secrets)
        : service === 'ssm'
          ? fromJson(jsonError(400, 'UnknownOperationException', `this test server answers ${action} only with an injected fault`))
          : fromSts(handleSts(params ?? new URLSearchParams(), auth.principal, state.identities));
  respond(response, outcome);
  record(outcome);
}

function authenticate(request: IncomingMessage, body: Buffer, service: 'secretsmanager' | 'ssm' | 'sts', identities: IdentityRegistry): Authenticated | Outcome {
  const fail = (code: keyof typeof AUTH_ERRORS): Outcome => {
    const [jsonStatus, jsonType, queryStatus, queryCode, message] = AUTH_ERRORS[code];
    return service === 'sts' ? fromSts(stsError(queryStatus, queryCode, message)) : fromJson(jsonError(jsonStatus, jsonType, message));
  };
  const authorization = parseAuthorization(request.headers.authorization);
  if (authorization === undefined) return fail('missing');
  const principal = identities.find(authorization.accessKeyId);
  if (principal === undefined) return fail('unknownKey');
  const signed = isValidSignature({
    method: request.method ?? 'POST',
    url: request.url ?? '/',
    headers: request.headers,
    body,
    authorization,
    secretAccessKey: principal.secretAccessKey,
  });
  if (!signed || authorization.service !== service) return fail('badSignature');
  if (principal.sessionToken !== undefined) {
    if (request.headers['x-amz-security-token'] !== principal.sessionToken) return fail('unknownKey');
    if ((principal.expiresAt ?? Number.POSITIVE_INFINITY) <= Date.now()) return fail('expired');
  }
  return { principal };
}

/** [JSON status, JSON __type, Query status, Query code, message] per authentication failure. */
const AUTH_ERRORS = {
  missing: [400, 'MissingAuthenticationTokenException', 403, 'MissingAuthenticationToken', 'Missing Authentication Token'],
  unknownKey: [400, 'UnrecognizedClientException', 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'],
  badSignature: [400, 'InvalidSignatureException', 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'],
  expired: [400, 'ExpiredTokenException', 400, 'ExpiredToken', 'The security token included in the request is expired'],
} as const;

/** [JSON status, JSON __type, Query status, Query code, message] per injected fault. */
const FAULT_ERRORS = {
  throttle: [400, 'ThrottlingException', 400, 'Throttling', 'Rate exceeded'],
  internal: [500, 'InternalServiceError', 500, 'InternalFailure', 'An error occurred on the server side.'],
  unavailable: [503, 'ServiceUnavailable', 503, 'ServiceUnavailable', 'The service is unavailable. Please try again later.'],
  accessDenied: [400, 'AccessDeniedException', 403, 'AccessDenied', 'Access to the resource is denied.'],
  expiredToken: [400, 'ExpiredTokenException', 400, 'ExpiredToken', 'The security token included in the request is expired'],
} as const;

function faultOutcome(fault: AwsFault, service: 'secretsmanager' | 'ssm' | 'sts'): Outcome {
  if (fault.kind === 'latency' || fault.kind === 'reset' || fault.kind === 'oversized') throw new Error(`fault ${fault.kind} has no error answer`);
  const [jsonStatus, jsonType, queryStatus, queryCode, message] = FAULT_ERRORS[fault.kind];
  return service === 'sts' ? fromSts(stsError(queryStatus, queryCode, message)) : fromJson(jsonError(jsonStatus, jsonType, message));
}

const OVERSIZED_CHUNK = Buffer.alloc(64 * 1024, 'A');

/**
 * Writes a JSON answer `fault.bytes` long, one chunk at a time and only as
 * fast as the client reads, so that the server itself never holds it; stops
 * when the client hangs up.
 */
async function streamOversized(response: ServerResponse, fault: AwsFault): Promise<void> {
  const total = fault.bytes ?? 0;
  const head = Buffer.from('{"SecretString":"');
  const tail = Buffer.from('"}');
  response.writeHead(200, {
    'Content-Type': JSON_CONTENT_TYPE,
    ...(fault.declareLength === true ? { 'Content-Length': total } : {}),
    'x-amzn-RequestId': randomUUID(),
  });
  const closed = new Promise<void>((resolve) => response.once('close', resolve));
  let left = total - head.length - tail.length;
  if (!response.write(head)) await Promise.race([once(response, 'drain'), closed]);
  while (left > 0 && !response.destroyed) {
    const chunk = left >= OVERSIZED_CHUNK.length ? OVERSIZED_CHUNK : OVERSIZED_CHUNK.subarray(0, left);
    left -= chunk.length;
    if (!response.write(chunk)) await Promise.race([once(response, 'drain'), closed]);
  }
  if (!response.destroyed) response.end(tail);
}

function secretsManagerOutcome(request: IncomingMessage, body: Buffer, action: string, principal: Principal, secrets: SecretStore): Outcome {
  if (request.headers['content-type'] !== JSON_CONTENT_TYPE) {
    return fromJson(jsonError(400, 'SerializationException', `Expected Content-Type ${JSON_CONTENT_TYPE}.`));
  }
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return fromJson(jsonError(400, 'SerializationException', 'The request body is not valid JSON.'));
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fromJson(jsonError(400, 'SerializationException', 'The request body must be a JSON object.'));
  }
  return fromJson(handleSecretsManager(action, input as Record<string, unknown>, principal, secrets));
}

function fromJson(answer: ApiAnswer): Outcome {
  return {
    status: answer.status,
    contentType: JSON_CONTENT_TYPE,
    payload: JSON.stringify(answer.body),
    errorCode: answer.errorCode,
    valuesTransferred: answer.valuesTransferred,
    targets: answer.targets,
    roleSessionName: undefined,
  };
}

function fromSts(answer: StsAnswer): Outcome {
  return {
    status: answer.status,
    contentType: 'text/xml',
    payload: answer.xml,
    errorCode: answer.errorCode,
    valuesTransferred: 0,
    targets: answer.targets,
    roleSessionName: answer.roleSessionName,
  };
}

function respond(response: ServerResponse, outcome: Outcome): void {
  if (response.destroyed) return;
  response.writeHead(outcome.status, {
    'Content-Type': outcome.contentType,
    'Content-Length': Buffer.byteLength(outcome.payload),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(outcome.payload);
}
