import { formatSize } from '../../config/size.js';
import { ConfigError, SecretDataError, SecretvisorError } from '../../errors.js';
import { sourceFailure, type RemoteFailureKind } from '../failure-kind.js';
import { AssumeRoleError } from './aws-client.js';
import { ResponseTooLargeError } from './response-cap.js';
import { oneLine } from '../../lib/one-line.js';

/** The call that failed, for the message. */
export interface AwsCallSite {
  readonly source: string;
  /** The secret, or for Parameter Store the path or names asked for. */
  readonly secretId: string;
  readonly operation: string;
  /** Which AWS service was called; default Secrets Manager. */
  readonly service?: 'secrets-manager' | 'ssm';
}

/** An AWS or network failure reduced to what may be shown: never a value, never a credential. */
interface AwsFailure {
  readonly code: string;
  readonly status: number | undefined;
  /** AWS's own message, kept only for errors whose text cannot hold a response body. */
  readonly detail: string | undefined;
}

type ErrorFields = Error & {
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly code?: unknown;
  readonly syscall?: unknown;
};

const MAX_DETAIL_LENGTH = 300;
/** The SDK's messages for no region (`Region is missing`) and an unusable one such as an empty AWS_REGION. */
const REGION_ERROR = /^Region (is missing|not accepted)/;

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);
/** Access refused by a policy, or by a role's trust policy or ExternalId when assuming it. */
const DENIED = new Set(['AccessDeniedException', 'AccessDenied']);
const EXPIRED = new Set(['ExpiredTokenException', 'ExpiredToken', 'RequestExpired']);
/** Credentials AWS does not accept: waiting does not change them. */
const REFUSED_CREDENTIALS = new Set(['UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch']);
/** A request that reached AWS unsigned or half signed: the credentials are worth checking, but it is retried. */
const UNSIGNED = new Set(['IncompleteSignature', 'MissingAuthenticationToken', 'MissingAuthenticationTokenException']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'TimeoutError']);

/**
 * What an AWS call threw (the SDK's error, or the assume-role's), in the
 * shared vocabulary, the one mapping of the AWS clients: `AccessDenied*` and
 * credentials AWS does not recognise are `denied`; `ResourceNotFoundException`
 * is `not-found`; throttling in any of its spellings is `throttled`; network
 * errors and timeouts are `unreachable`; a 5xx is a `server-error`; anything
 * else (expired credentials the SDK may refresh, no credentials) is `other`.
 */
export function awsFailureKind(error: unknown): RemoteFailureKind {
  return kindOf(describeFailure(error instanceof AssumeRoleError ? error.cause : error));
}

function kindOf({ code, status }: AwsFailure): RemoteFailureKind {
  if (DENIED.has(code) || REFUSED_CREDENTIALS.has(code)) return 'denied';
  if (code === 'ResourceNotFoundException') return 'not-found';
  if (THROTTLING.has(code)) return 'throttled';
  if (NETWORK.has(code)) return 'unreachable';
  if (status !== undefined && status >= 500) return 'server-error';
  return 'other';
}

/**
 * Turns whatever an AWS call threw into a SecretvisorError naming the source,
 * the secret and the AWS error code, with a hint, by its {@link awsFailureKind}:
 * denied is a PermissionError (77) and not-found a NotFoundError (66), both
 * reported at once; every other kind a SourceUnavailableError (retried by
 * the supervisor); a missing region is a ConfigError. The SDK error is not
 * kept as `cause`, so no response body can reach a log through it.
 */
export function toAwsSourceError(error: unknown, site: AwsCallSite): SecretvisorError {
  if (error instanceof SecretvisorError) return error;
  const roleArn = error instanceof AssumeRoleError ? error.roleArn : undefined;
  const failure = describeFailure(error instanceof AssumeRoleError ? error.cause : error);
  const ssm = site.service === 'ssm';
  const where = `${ssm ? 'aws-ssm' : 'aws-secrets-manager'} source "${site.source}"`;
  const subject = `${ssm ? 'parameters' : 'secret'} "${site.secretId}"`;
  if (failure.detail !== undefined && REGION_ERROR.test(failure.detail)) {
    return new ConfigError(`${where}: no usable AWS region for ${subject}: ${failure.detail}`, {
      hint: "set `region` on the source, or AWS_REGION in secretvisor's environment",
    });
  }
  if (error instanceof ResponseTooLargeError) {
    return new SecretDataError(`${where}: AWS's answer to ${site.operation} for ${subject} is larger than ${formatSize(error.limitBytes)}; it was cut off unread`, {
      hint: 'a secret this large belongs in a file the service reads itself; if it is expected, raise maxResponseSize on this source',
    });
  }
  const operation = roleArn === undefined ? site.operation : `assuming role ${roleArn}`;
  const status = failure.status === undefined ? '' : ` (HTTP ${failure.status})`;
  const detail = failure.detail === undefined ? '' : `: ${failure.detail}`;
  const kind = kindOf(failure);
  return sourceFailure(kind, `${where}: ${operation} for ${subject} failed: ${failure.code}${status}${detail}`, {
    hint: getAwsFailureHint(failure.code, kind, { assumingRole: roleArn !== undefined, ssm }),
  });
}

/** True when AWS refused the credentials as expired: cached credentials are stale and a new client should fetch fresh ones. */
export function isExpiredCredentialsError(error: unknown): boolean {
  const cause = error instanceof AssumeRoleError ? error.cause : error;
  return cause instanceof Error && EXPIRED.has(cause.name);
}

function describeFailure(error: unknown): AwsFailure {
  if (!(error instanceof Error)) return { code: 'UnknownError', status: undefined, detail: undefined };
  const fields = error as ErrorFields;
  if (fields.$fault !== undefined) {
    return { code: error.name, status: fields.$metadata?.httpStatusCode, detail: oneLine(error.message, MAX_DETAIL_LENGTH) };
  }
  if (typeof fields.code === 'string') {
    const safe = fields.syscall !== undefined || error.name === 'TimeoutError';
    return { code: fields.code, status: undefined, detail: safe ? oneLine(error.message, MAX_DETAIL_LENGTH) : undefined };
  }
  const safe = error.name === 'CredentialsProviderError' || REGION_ERROR.test(error.message);
  return { code: error.name, status: undefined, detail: safe ? oneLine(error.message, MAX_DETAIL_LENGTH) : undefined };
}

const CHECK_CREDENTIALS = 'check the AWS credentials secretvisor uses (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the instance or task role)';

/** The usual fix for a failure of this kind (and code within it); undefined when there is none to suggest. */
function getAwsFailureHint(code: string, kind: RemoteFailureKind, call: { readonly assumingRole: boolean; readonly ssm: boolean }): string | undefined {
  if (EXPIRED.has(code)) {
    return 'the AWS credentials secretvisor uses have expired: renew them, or use a role or instance profile the SDK refreshes itself';
  }
  if (UNSIGNED.has(code)) return CHECK_CREDENTIALS;
  if (code === 'CredentialsProviderError') {
    return "give secretvisor AWS credentials through the SDK's default chain: environment variables, a profile, or an instance or task role";
  }
  switch (kind) {
    case 'throttled':
      return 'AWS is throttling these requests; secretvisor retries with backoff. If it persists, raise `refresh` or spread the fleet';
    case 'not-found':
      return 'check `secretId` and `region`: the secret must exist in that account and region';
    case 'denied':
      if (!DENIED.has(code)) return CHECK_CREDENTIALS;
      return call.assumingRole
        ? "check that the role's trust policy lets secretvisor's identity call sts:AssumeRole and that `externalId` matches its sts:ExternalId condition"
        : call.ssm
          ? 'allow ssm:GetParametersByPath (for `path`) or ssm:GetParameters (for `names`) on these parameters, and kms:Decrypt on the key of SecureString ones, for the identity secretvisor uses'
          : 'allow secretsmanager:DescribeSecret and secretsmanager:GetSecretValue on this secret (and kms:Decrypt on its key) for the identity secretvisor uses';
    case 'unreachable':
      return 'check that this host can reach the endpoint (VPC endpoint, proxy, security groups, DNS); secretvisor retries with backoff';
    case 'server-error':
      return "an error on AWS's side; secretvisor retries with backoff";
    case 'other':
      return undefined;
  }
}
