import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Clock } from '../../clock.js';
import { SecretDataError } from '../../errors.js';
import { formatSize } from '../../config/size.js';
import type { Logger } from '../../log.js';
import { describeErrorAnswer } from './vault-answer.js';
import { VaultRequestError, type VaultCall } from './vault-http.js';

/** How one source talks HTTP to Vault. */
export interface TransportOptions {
  /** The source's address, `https://vault:8200`; the API is under its `/v1/`. */
  readonly address: string;
  readonly namespace: string | undefined;
  /** PEM text of the CA to trust; undefined: the system's. */
  readonly ca: string | undefined;
  readonly skipVerify: boolean;
  /** The whole call, redirect included, must be answered within this, on this clock. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Origins a redirect may lead to; empty: none is followed. */
  readonly redirectOrigins: ReadonlySet<string>;
  readonly maxResponseBytes: number;
  readonly what: string;
  readonly log: Logger;
}

/** Sends one API call and resolves with the parsed answer; each call may follow at most one allowed redirect. */
export type VaultTransport = (call: VaultCall) => Promise<unknown>;

interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Vault's HTTP API over node:http(s), with the guarantees a general client
 * does not give: the token and login bodies go only to the source's own
 * origin or to origins `followRedirects` lists; https never falls back to
 * http; one redirect at most, logged; an answer larger than
 * `maxResponseSize` is cut off as it arrives, never buffered whole.
 */
export function createVaultTransport(options: TransportOptions): VaultTransport {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true }),
    'https:': new HttpsAgent({ keepAlive: true, rejectUnauthorized: !options.skipVerify, ...(options.ca === undefined ? {} : { ca: options.ca }) }),
  };
  const base = new URL(options.address.replace(/\/+$/, '') + '/v1/');
  return async (call) => {
    const deadline = new AbortController();
    const timer = options.clock.setTimeout(() => deadline.abort(), options.timeoutMs);
    const signal = call.signal === undefined ? deadline.signal : AbortSignal.any([deadline.signal, call.signal]);
    try {
      let url = new URL(call.path.replace(/^\/+/, ''), base);
      let answer = await send(url, call, signal);
      if (REDIRECTS.has(answer.status)) {
        const target = checkRedirect(url, answer, call, options);
        options.log.warn(
          { from: url.origin + url.pathname, to: target.origin + target.pathname, status: answer.status },
          `${options.what}: following Vault's redirect to ${target.origin} (followRedirects)`,
        );
        url = target;
        answer = await send(url, call, signal);
        if (REDIRECTS.has(answer.status)) {
          throw new VaultRequestError(answer.status, `Vault redirected twice (last to ${describeLocation(url, answer.location)}); secretvisor follows at most one redirect`);
        }
      }
      return parseAnswer(answer);
    } catch (error) {
      if (deadline.signal.aborted && !(error instanceof SecretDataError)) {
        throw new VaultRequestError(undefined, `no answer within ${options.timeoutMs}ms`);
      }
      throw error;
    } finally {
      options.clock.clearTimeout(timer);
    }
  };

  function send(url: URL, call: VaultCall, signal: AbortSignal): Promise<Answer> {
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const headers: OutgoingHttpHeaders = {};
    if (call.token !== undefined) headers['X-Vault-Token'] = call.token.reveal();
    if (options.namespace !== undefined && options.namespace !== '') headers['X-Vault-Namespace'] = options.namespace;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const protocol = url.protocol as keyof typeof agents;
    const request = protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Answer>((resolve, reject) => {
      if (signal.aborted) {
        reject(new VaultRequestError(undefined, 'aborted'));
        return;
      }
      const req = request(url, { method: call.method, headers, agent: agents[protocol], signal }, (res) => {
        readAnswer(res, url, options).then(resolve, (error: unknown) => {
          req.destroy();
          reject((error as Error).name === 'AbortError' ? new VaultRequestError(undefined, 'aborted') : error);
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.name === 'AbortError') reject(new VaultRequestError(undefined, 'aborted'));
        else reject(new VaultRequestError(undefined, [error.code, error.message].filter((part) => part !== undefined && part !== '').join(': ')));
      });
      req.end(body);
    });
  }
}

// Every redirect rule in one place: the answer's Location must name an allowed origin, over https when we started on https.
function checkRedirect(from: URL, answer: Answer, call: VaultCall, options: TransportOptions): URL {
  const shown = describeLocation(from, answer.location);
  let target: URL;
  try {
    target = new URL(answer.location ?? '', from);
  } catch {
    throw new VaultRequestError(answer.status, `Vault answered with a redirect to an invalid Location ${shown}`);
  }
  if (answer.location === undefined || answer.location === '') {
    throw new VaultRequestError(answer.status, 'Vault answered with a redirect without a Location');
  }
  if (from.protocol === 'https:' && target.protocol !== 'https:') {
    throw new VaultRequestError(answer.status, `Vault redirected from https to ${target.protocol.slice(0, -1)} (${shown}): refused, the token would cross the network in clear text`);
  }
  if (!options.redirectOrigins.has(target.origin)) {
    throw new VaultRequestError(answer.status, `Vault redirected to ${shown}, which followRedirects does not allow: no credential is sent there and its answer is not used`);
  }
  if (call.method !== 'GET' && answer.status !== 307 && answer.status !== 308) {
    throw new VaultRequestError(answer.status, `Vault answered a ${call.method} with a ${answer.status} redirect to ${shown}, which would drop the request body`);
  }
  return target;
}

// Origin and path only: a Location's query could carry anything.
function describeLocation(from: URL, location: string | undefined): string {
  try {
    const url = new URL(location ?? '', from);
    return `${url.origin}${url.pathname}`;
  } catch {
    return JSON.stringify((location ?? '').slice(0, 100));
  }
}

async function readAnswer(res: IncomingMessage, url: URL, options: TransportOptions): Promise<Answer> {
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if (REDIRECTS.has(status)) {
    // A redirect's body is never read: it comes from a host that may not be Vault.
    res.resume();
    return { status, location, body: '' };
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxResponseBytes) throw tooLarge(url, options);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > options.maxResponseBytes) throw tooLarge(url, options);
    chunks.push(chunk as Buffer);
  }
  return { status, location, body: Buffer.concat(chunks).toString('utf8') };
}

function tooLarge(url: URL, options: TransportOptions): SecretDataError {
  return new SecretDataError(`${options.what}: Vault's answer for ${url.pathname} is larger than ${formatSize(options.maxResponseBytes)}; it was cut off unread`, {
    hint: 'a secret this large belongs in a file the service reads itself; if it is expected, raise maxResponseSize on this source',
  });
}

function parseAnswer(answer: Answer): unknown {
  const parsed = parseJson(answer.body);
  if (answer.status === 200 || answer.status === 204) return parsed;
  const errors = (parsed as { errors?: unknown } | undefined)?.errors;
  const first = Array.isArray(errors) && typeof errors[0] === 'string' ? errors[0] : '';
  throw new VaultRequestError(answer.status, describeErrorAnswer(answer.status, first, parsed));
}

// Vault answers JSON; anything else is passed on as text for the caller's shape checks to refuse.
function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
