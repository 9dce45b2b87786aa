import { SourceUnavailableError } from '../../errors.js';
import type { VaultAuthConfig } from '../../config/config.js';
import { withoutNodeVersionWarning } from '../aws/aws-client.js';

type AwsAuth = Extract<VaultAuthConfig, { method: 'aws' }>;

/** The header Vault's `iam_server_id_header_value` checks, signed so a request made for one Vault cannot be replayed to another. */
export const IAM_SERVER_ID_HEADER = 'X-Vault-AWS-IAM-Server-ID';

/** The fields of Vault's IAM login that carry the signed request; Vault replays it to STS to learn who signed it. */
export interface IamLoginFields {
  readonly iam_http_request_method: string;
  /** The other three are base64, as Vault's API takes them. */
  readonly iam_request_url: string;
  readonly iam_request_body: string;
  readonly iam_request_headers: string;
}

/** The parts of the SDK's signed HTTP request that Vault needs. */
interface SignedRequest {
  readonly method: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number | undefined;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/**
 * Signs an `sts:GetCallerIdentity` request with the AWS SDK's default
 * credential chain (instance profile, environment, profile, web identity)
 * without sending it: a middleware placed right after the SDK's signer takes
 * the signed request and ends the call there. It is signed for the region
 * and STS endpoint that finalize settled. The SDK is loaded here, so configs
 * without `method: aws` never load it.
 */
export async function signCallerIdentity(auth: AwsAuth, what: string): Promise<IamLoginFields> {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const endpoint = auth.stsEndpoint;
  const client = withoutNodeVersionWarning(() => new STSClient({ region: auth.region, maxAttempts: 1, ...(endpoint === undefined ? {} : { endpoint }) }));
  let signed: SignedRequest | undefined;
  client.middlewareStack.addRelativeTo(
    <A extends { readonly request: unknown }, R>(next: (args: A) => Promise<R>) =>
      async (args: A): Promise<R> => {
        if (isSignedRequest(args.request)) setLoginHeaders(args.request.headers, auth.headerValue);
        return next(args);
      },
    { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'vaultLoginHeaders' },
  );
  client.middlewareStack.addRelativeTo(
    () => async (args: { readonly request: unknown }) => {
      if (isSignedRequest(args.request)) signed = args.request;
      return { output: { $metadata: {} }, response: undefined };
    },
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'vaultCaptureSignedRequest' },
  );
  try {
    await client.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    throw new SourceUnavailableError(`${what}: could not sign the sts:GetCallerIdentity request of the aws login: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'give secretvisor AWS credentials the SDK finds: an EC2 instance profile, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity token',
      cause: error,
    });
  } finally {
    client.destroy();
  }
  if (signed === undefined || typeof signed.body !== 'string') {
    throw new SourceUnavailableError(`${what}: the AWS SDK did not produce a signed sts:GetCallerIdentity request`, {
      hint: 'this AWS SDK version signs requests differently: report it with the versions of @aws-sdk/client-sts',
    });
  }
  const port = signed.port === undefined ? '' : `:${signed.port}`;
  return {
    iam_http_request_method: signed.method,
    iam_request_url: base64(`${signed.protocol}//${signed.hostname}${port}${signed.path}`),
    iam_request_body: base64(signed.body),
    iam_request_headers: base64(JSON.stringify(signed.headers)),
  };
}

/**
 * Vault refuses X-Amz-* headers outside its allowed list (`allowed_sts_header_values`), and the SDK's
 * X-Amz-User-Agent is not on it; the server ID header, when set, must be signed: both happen before signing.
 */
function setLoginHeaders(headers: Record<string, string>, headerValue: string | undefined): void {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'x-amz-user-agent') delete headers[name];
  if (headerValue !== undefined) headers[IAM_SERVER_ID_HEADER] = headerValue;
}

function isSignedRequest(request: unknown): request is SignedRequest {
  if (typeof request !== 'object' || request === null) return false;
  const fields = request as Record<string, unknown>;
  return typeof fields.method === 'string' && typeof fields.hostname === 'string' && typeof fields.headers === 'object' && fields.headers !== null;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
