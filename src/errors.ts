/** Exit codes of SPEC.md, by meaning. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 64,
  dataError: 65,
  noInput: 66,
  unavailable: 69,
  noPermission: 77,
  config: 78,
  cannotExecute: 126,
  notFound: 127,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

interface ErrorDetails {
  /** How to fix it, one sentence; printed after the message. */
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

/**
 * Base of every error secretvisor reports on purpose. Carries its exit code
 * and an optional fix. Messages name keys, sources and paths — never values.
 */
export class SecretvisorError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(exitCode: ExitCodeValue, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = details.hint;
  }
}

/** Bad flags or a missing command (exit 64). */
export class UsageError extends SecretvisorError {
  constructor(message: string, details?: ErrorDetails) {
    super(ExitCode.usage, message, details);
  }
}

/** Secret data that cannot be used: parse error, missing required key, invalid or refused name, oversize (exit 65). */
export class SecretDataError extends SecretvisorError {
  constructor(message: string, details?: ErrorDetails) {
    super(ExitCode.dataError, message, details);
  }
}

/** A secret file, folder or remote secret that does not exist: a typo'd path or secretId waits in vain (exit 66, sysexits EX_NOINPUT). */
export class NotFoundError extends SecretvisorError {
  constructor(message: string, details?: ErrorDetails) {
    super(ExitCode.noInput, message, details);
  }
}

/** A source that could not be reached; worth retrying (exit 69 once retries are exhausted). */
export class SourceUnavailableError extends SecretvisorError {
  constructor(message: string, details?: ErrorDetails) {
    super(ExitCode.unavailable, message, details);
  }
}

/** A secret file or folder others can read or write, owned by another user, or not readable by secretvisor; or a remote source that refused access (exit 77). */
export class PermissionError extends SecretvisorError {
  constructor(message: string, details?: ErrorDetails) {
    super(ExitCode.noPermission, message, details);
  }
}

/** An invalid config: unknown key, wrong type, bad reference (exit 78). */
export class ConfigError extends SecretvisorError {
  constructor(message: string, details?: ErrorDetails) {
    super(ExitCode.config, message, details);
  }
}

/** The one-line text shown to a person: message, then the fix when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof SecretvisorError) {
    return error.hint === undefined ? error.message : `${error.message}\n  fix: ${error.hint}`;
  }
  return error instanceof Error ? error.message : String(error);
}
