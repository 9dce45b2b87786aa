import { SecretvisorError } from '../../errors.js';
import { sourceFailure, vaultFailureKind } from '../failure-kind.js';
import { VaultRequestError } from './vault-http.js';

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
 * Maps a failed Vault call to the error of its failure kind: a 403 to
 * PermissionError (77), a 404 to NotFoundError (66), both reported at once;
 * anything else to SourceUnavailableError (retried; exit 69 at start-up
 * once retries run out). The message names the source, the action with its
 * Vault path, the address and the status or network error; the hint says
 * what usually fixes that kind of failure.
 */
export function toVaultSourceError(error: unknown, context: FailureContext): SecretvisorError {
  if (error instanceof SecretvisorError) return error;
  const failure = error instanceof VaultRequestError ? error : new VaultRequestError(undefined, String(error));
  return sourceFailure(vaultFailureKind(failure.status, 'read'), `${context.what}: ${context.action} at ${context.address} failed: ${describeFailure(failure)}`, {
    hint: getFailureHint(failure),
    // The cause keeps the status, so the last-good cache can tell denied (401/403/404) from unreachable.
    cause: failure,
  });
}

/** The usual fix for a failure of this kind. */
export function getFailureHint(error: VaultRequestError): string {
  const { status } = error;
  if (status === undefined) {
    return 'check the address (or VAULT_ADDR), that Vault is up and reachable, and its TLS certificate (caCert or VAULT_CACERT)';
  }
  if (status === 403) return "check that the token's policy allows this path (and the namespace, if any)";
  if (status === 404 && /of the secret was (deleted|destroyed)/.test(error.message)) {
    return 'write a new version of the secret (a deleted version can also be restored with `vault kv undelete` / `bao kv undelete`)';
  }
  if (status === 404) {
    return "check the path (KV v2 paths include /data/, as in secret/data/app) and that the token's policy allows reading it";
  }
  if (status === 400) return 'check the auth settings and the path in the config';
  if (status === 429) return 'Vault is rate-limiting this client: check its rate-limit quotas';
  if (status === 503 && /sealed/i.test(error.message)) return 'unseal Vault';
  return 'Vault answered with a server error: check its logs and sys/health';
}

/** True when Vault refused the token or the policy: a 403. */
export function isDenied(error: unknown): boolean {
  return error instanceof VaultRequestError && error.status === 403;
}
