import { describeErrorAnswer } from './vault-answer.js';
import type { SecretValue } from '../../secret-value.js';
import { oneLine } from '../../lib/one-line.js';

const MAX_MESSAGE_LENGTH = 300;

/** A Vault API call: method, path (no leading `/v1/`), the token to send and a JSON body. */
export interface VaultCall {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly token?: SecretValue | undefined;
  readonly body?: Readonly<Record<string, unknown>> | undefined;
  /** The body holds no credential (a certificate request): error texts may quote its values. */
  readonly publicBody?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The slice of Vault's HTTP API the source uses; vault-transport in production, a fake in unit tests. */
export interface VaultHttp {
  /** Resolves with the parsed response body; rejects with a {@link VaultRequestError}. */
  call(call: VaultCall): Promise<unknown>;
}

/**
 * A failed Vault call, reduced to what is safe to show: the status and
 * Vault's own error text, or the network error. The client's error object
 * is never kept — it carries the request headers, token included.
 */
export class VaultRequestError extends Error {
  /** HTTP status; undefined when no answer came (refused, reset, timed out, aborted). */
  readonly status: number | undefined;

  constructor(status: number | undefined, reason: string) {
    super(reason);
    this.name = 'VaultRequestError';
    this.status = status;
  }
}

/** Rejects `promise`'s caller as soon as `signal` aborts; the request itself then just runs out. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new VaultRequestError(undefined, 'aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new VaultRequestError(undefined, 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Turns whatever the client threw into a {@link VaultRequestError}: Vault's
 * first error text with its status, or the network error's code and
 * message. Any credential the call carried is cut out of the text, in case
 * a server ever echoes one back.
 */
export function getRequestError(error: unknown, call: VaultCall, timeoutMs: number): VaultRequestError {
  if (error instanceof VaultRequestError) return new VaultRequestError(error.status, scrub(oneLine(error.message, MAX_MESSAGE_LENGTH), getCredentials(call)));
  const failure = error as { response?: { statusCode?: number; body?: unknown }; code?: string; message?: string };
  const status = failure.response?.statusCode;
  let reason: string;
  if (status !== undefined) {
    const message = failure.message === undefined || failure.message === `Status ${status}` ? '' : failure.message;
    reason = describeErrorAnswer(status, message, failure.response?.body);
  } else if (failure.code === 'ECONNABORTED' || failure.code === 'ETIMEDOUT') {
    reason = `no answer within ${timeoutMs}ms`;
  } else {
    reason = [failure.code, failure.message].filter((part) => part !== undefined && part !== '').join(': ');
  }
  return new VaultRequestError(status, scrub(oneLine(reason, MAX_MESSAGE_LENGTH), getCredentials(call)));
}

// Login fields that name things rather than prove identity: Vault's errors quote them ("entry for role worker not found").
const PUBLIC_FIELDS = new Set(['role', 'iam_http_request_method']);

function getCredentials(call: VaultCall): string[] {
  const fields = call.publicBody === true ? [] : Object.entries(call.body ?? {});
  const values = fields
    .filter(([name]) => !PUBLIC_FIELDS.has(name))
    .map(([, value]) => value)
    .filter((value): value is string => typeof value === 'string');
  if (call.token !== undefined) values.push(call.token.reveal());
  return values.filter((value) => value.length >= 4);
}

function scrub(text: string, credentials: readonly string[]): string {
  return credentials.reduce((result, value) => result.split(value).join('[redacted]'), text);
}
