import { ConfigError, NotFoundError, PermissionError, SecretDataError, SourceUnavailableError, type SecretvisorError } from '../errors.js';

/**
 * What a failed read means for the operator: `transient` (an outage —
 * connection refused, timeouts, 5xx, sealed, throttling — worth waiting for),
 * `denied` (access refused: waiting does not change it, exit 77) and
 * `not-found` (the secret does not exist: exit 66). Vault and AWS map their
 * answers to these three through this module alone.
 */
export type FailureKind = 'transient' | 'denied' | 'not-found';

/** What a thrown error says about a source, for logs and health: a {@link FailureKind}, or `invalid` for data or config it refused. */
export type ReadFailureKind = FailureKind | 'invalid';

interface FailureDetails {
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

/** The error for a failure of this kind: SourceUnavailableError (retried), PermissionError (77) or NotFoundError (66). */
export function sourceFailure(kind: FailureKind, message: string, details: FailureDetails = {}): SecretvisorError {
  switch (kind) {
    case 'transient':
      return new SourceUnavailableError(message, details);
    case 'denied':
      return new PermissionError(message, details);
    case 'not-found':
      return new NotFoundError(message, details);
  }
}

/** The kind of failure a source's error stands for. */
export function failureKindOf(error: unknown): ReadFailureKind {
  if (error instanceof PermissionError) return 'denied';
  if (error instanceof NotFoundError) return 'not-found';
  if (error instanceof SecretDataError || error instanceof ConfigError) return 'invalid';
  return 'transient';
}

/** True when waiting cannot make the read succeed: it is reported at start-up at once and not retried with backoff while running. */
export function isPermanentFailure(error: unknown): boolean {
  return failureKindOf(error) !== 'transient';
}

/**
 * A Vault answer's kind. 403 is denied (after the token was found alive, so
 * it is the policy); 404 is a path (or auth mount) that does not exist; a login refused
 * with 400 (`invalid role or secret ID`, an unknown role) is denied too.
 * No status (network), 429, 5xx and a sealed Vault are transient.
 */
export function vaultFailureKind(status: number | undefined, during: 'login' | 'read'): FailureKind {
  if (status === 403) return 'denied';
  if (status === 400 && during === 'login') return 'denied';
  if (status === 404) return 'not-found';
  return 'transient';
}

const AWS_DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
]);

/**
 * An AWS error code's kind. `AccessDenied*` (a policy, or a role whose trust
 * policy or ExternalId refuses us) and credentials AWS does not recognise
 * are denied; `ResourceNotFoundException` is not-found. Throttling, 5xx,
 * network errors and expired credentials (which the SDK may refresh) are
 * transient.
 */
export function awsFailureKind(code: string): FailureKind {
  if (AWS_DENIED.has(code)) return 'denied';
  if (code === 'ResourceNotFoundException') return 'not-found';
  return 'transient';
}
