import { NotFoundError, PermissionError, SourceUnavailableError, type SecretvisorError } from '../errors.js';

/**
 * What a remote store's failed answer means, named the same for every client:
 * `denied` (a policy, a refused login, credentials it does not accept),
 * `not-found` (the secret, path or mount does not exist), `throttled` (it
 * rate-limits us), `unreachable` (no answer: connection refused or reset, DNS,
 * a timeout), `server-error` (a 5xx, a sealed Vault) and `other` (any other
 * refusal, such as expired credentials the SDK may refresh). Each client maps
 * its own errors to it with one function — `vaultFailureKind` in
 * `vault/vault-failure.ts`, `awsFailureKind` in `aws/aws-errors.ts` — and
 * every decision (exit code, fail fast at start-up, retry, cache) reads the kind.
 */
export type RemoteFailureKind = 'denied' | 'not-found' | 'throttled' | 'unreachable' | 'server-error' | 'other';

/**
 * What a failed read means for the operator: `transient` (an outage, worth
 * waiting for: retried at start-up until `startup.timeout`, with backoff while
 * running), `denied` (exit 77 at once) and `not-found` (exit 66 at once), for
 * which waiting changes nothing, and `invalid` (data or config secretvisor
 * refused, or an error no source should throw).
 */
export type FailureKind = 'transient' | 'denied' | 'not-found' | 'invalid';

interface FailureDetails {
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

/**
 * The error for a remote failure of this kind: PermissionError (77) for
 * `denied`, NotFoundError (66) for `not-found`, both reported at once; a
 * SourceUnavailableError, retried, for every other kind.
 */
export function sourceFailure(kind: RemoteFailureKind, message: string, details: FailureDetails = {}): SecretvisorError {
  switch (kind) {
    case 'denied':
      return new PermissionError(message, details);
    case 'not-found':
      return new NotFoundError(message, details);
    case 'throttled':
    case 'unreachable':
    case 'server-error':
    case 'other':
      return new SourceUnavailableError(message, details);
  }
}

/** The kind of failure a source's error stands for: the one reading of it for start-up, the cache and the retries while running. */
export function failureKindOf(error: unknown): FailureKind {
  if (error instanceof SourceUnavailableError) return 'transient';
  if (error instanceof PermissionError) return 'denied';
  if (error instanceof NotFoundError) return 'not-found';
  return 'invalid';
}
