import { SecretvisorError } from '../../errors.js';
import { sourceFailure, type RemoteFailureKind } from '../failure-kind.js';
import { VaultRequestError } from './vault-http.js';

/**
 * Vault's failed answer in the shared vocabulary, the one mapping of the
 * Vault client: no status (a network error, no answer in time) is
 * `unreachable`; 401 and 403 are `denied` (403 after the token was found
 * alive: the policy), and so is a login refused with 400 (`invalid role or
 * secret ID`, an unknown role); 404 is `not-found` (a path or auth mount that
 * does not exist); 429 is `throttled`; a 5xx (a sealed Vault's 503 among them)
 * is a `server-error`; anything else is `other`. An error that is no
 * VaultRequestError never reached Vault: `unreachable`.
 */
export function vaultFailureKind(error: unknown, during: 'login' | 'read'): RemoteFailureKind {
  const status = error instanceof VaultRequestError ? error.status : undefined;
  if (status === undefined) return 'unreachable';
  if (status === 401 || status === 403 || (status === 400 && during === 'login')) return 'denied';
  if (status === 404) return 'not-found';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'server-error';
  return 'other';
}

/** What was being done when Vault failed, for the message. */
export interface FailureContext {
  /** `vault source "core"`. */
  readonly what: string;
  /** `read secret/data/app`, `approle login at auth/approle/login`. */
  readonly action: string;
  readonly address: string;
}

/** The status and text of a failed call, `503 Vault is sealed`, `no answer within 10000ms`. */
export function describeFailure(error: VaultRequestError): string {
  if (error.status === undefined) return error.message;
  return error.message === '' ? `${error.status}` : `${error.status} ${error.message}`;
}

/** A one-line reason for a log line, from any error a Vault call or login threw. */
export function getFailureReason(error: unknown): string {
  if (error instanceof VaultRequestError) return describeFailure(error);
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps a failed Vault call to the error of its {@link vaultFailureKind}:
 * denied to PermissionError (77), not-found to NotFoundError (66), both
 * reported at once; every other kind to SourceUnavailableError (retried;
 * exit 69 at start-up once retries run out). The message names the source,
 * the action with its Vault path, the address and the status or network
 * error; the hint says what usually fixes that kind of failure.
 */
export function toVaultSourceError(error: unknown, context: FailureContext): SecretvisorError {
  if (error instanceof SecretvisorError) return error;
  const failure = error instanceof VaultRequestError ? error : new VaultRequestError(undefined, String(error));
  return sourceFailure(vaultFailureKind(failure, 'read'), `${context.what}: ${context.action} at ${context.address} failed: ${describeFailure(failure)}`, {
    hint: getVaultFailureHint(failure),
    cause: failure,
  });
}

/** The usual fix for a failed read, by its kind (and the status within it). */
export function getVaultFailureHint(error: VaultRequestError): string {
  switch (vaultFailureKind(error, 'read')) {
    case 'unreachable':
      return 'check the address (or VAULT_ADDR), that Vault is up and reachable, and its TLS certificate (caCert or VAULT_CACERT)';
    case 'denied':
      return "check that the token's policy allows this path (and the namespace, if any)";
    case 'not-found':
      return /of the secret was (deleted|destroyed)/.test(error.message)
        ? 'write a new version of the secret (a deleted version can also be restored with `vault kv undelete` / `bao kv undelete`)'
        : "check the path (KV v2 paths include /data/, as in secret/data/app) and that the token's policy allows reading it";
    case 'throttled':
      return 'Vault is rate-limiting this client: check its rate-limit quotas';
    case 'server-error':
      return error.status === 503 && /sealed/i.test(error.message) ? 'unseal Vault' : SERVER_ERROR_HINT;
    case 'other':
      return error.status === 400 ? 'check the auth settings and the path in the config' : SERVER_ERROR_HINT;
  }
}

const SERVER_ERROR_HINT = 'Vault answered with a server error: check its logs and sys/health';
