import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A mount's `auth/<mount>/config/client`: where the signed request is replayed, and the server ID header it demands. */
export interface AwsAuthConfig {
  /** Vault's `sts_endpoint`: `http://127.0.0.1:<moto>` in tests. */
  readonly stsEndpoint: string;
  /** Vault's `iam_server_id_header_value`. */
  readonly iamServerIdHeaderValue?: string;
}

/** The caller STS named (and the URL its request was signed for), or the status and error Vault would answer. */
export type IamCaller = { readonly arn: string; readonly signedUrl: string } | { readonly status: number; readonly error: string };

const SERVER_ID_HEADER = 'x-vault-aws-iam-server-id';
// OpenBao's defaultAllowedSTSRequestHeaders: any other X-Amz-* header is refused.
const ALLOWED_AMZ_HEADERS = new Set(
  ['X-Amz-Algorithm', 'X-Amz-Content-Sha256', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Security-Token', 'X-Amz-Signature', 'X-Amz-SignedHeaders'].map((name) => name.toLowerCase()),
);

/**
 * The IAM half of Vault's aws auth method, after OpenBao's `auth-aws`
 * plugin (path_login.go): checks the four `iam_*` fields as it does, replays
 * the signed sts:GetCallerIdentity request to the configured STS endpoint
 * with the Host the client signed, and reads the caller's ARN from STS's
 * answer. An assumed-role ARN is turned into its role's ARN, as Vault
 * compares `bound_iam_principal_arn` with `resolve_aws_unique_ids=false`.
 */
export async function verifyIamLogin(body: Readonly<Record<string, unknown>>, config: AwsAuthConfig): Promise<IamCaller> {
  if (body.iam_http_request_method !== 'POST') return refuse("invalid iam_http_request_method; currently only 'POST' is supported");
  const url = decodeField(body.iam_request_url);
  if (url === undefined) return refuse('missing iam_request_url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('error parsing iam_request_url');
  }
  if (parsed.search !== '') return refuse('invalid request');
  const requestBody = decodeField(body.iam_request_body);
  if (requestBody === undefined) return refuse('missing iam_request_body');
  if (!isCallerIdentityBody(requestBody)) return refuse('invalid request body');
  const headers = decodeHeaders(body.iam_request_headers);
  if (headers === undefined || Object.keys(headers).length === 0) return refuse('missing iam_request_headers');
  if (config.iamServerIdHeaderValue !== undefined) {
    const problem = checkServerIdHeader(headers, config.iamServerIdHeaderValue);
    if (problem !== undefined) return refuse(`error validating X-Vault-AWS-IAM-Server-ID header: ${problem}`);
  }
  const stray = Object.keys(headers).find((name) => name.toLowerCase().startsWith('x-amz-') && !ALLOWED_AMZ_HEADERS.has(name.toLowerCase()));
  if (stray !== undefined) return refuse(`invalid request header: ${stray}`);
  const answer = await replay(config.stsEndpoint, parsed, requestBody, headers).catch((error: unknown) => ({ status: 0, text: String(error) }));
  if (answer.status !== 200) return refuse(`error making upstream request: received error code ${answer.status} from STS: ${answer.text}`);
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(answer.text)?.[1];
  if (arn === undefined) return refuse('error making upstream request: no Arn in the GetCallerIdentity response');
  return { arn: canonicalArn(arn), signedUrl: url };
}

function refuse(error: string): IamCaller {
  return { status: 400, error };
}

function decodeField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

function isCallerIdentityBody(body: string): boolean {
  const form = new URLSearchParams(body);
  return [...form.keys()].every((key) => key === 'Action' || key === 'Version') && form.getAll('Action').join() === 'GetCallerIdentity';
}

/** Vault takes the headers as base64 JSON of `{ name: value | [values] }`. */
function decodeHeaders(value: unknown): Record<string, string> | undefined {
  const text = decodeField(value);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([name, item]) => [name, Array.isArray(item) ? item.join(',') : String(item)]));
  } catch {
    return undefined;
  }
}

function checkServerIdHeader(headers: Record<string, string>, required: string): string | undefined {
  const provided = Object.entries(headers).find(([name]) => name.toLowerCase() === SERVER_ID_HEADER)?.[1];
  if (provided === undefined || provided === '') return 'missing header "X-Vault-AWS-IAM-Server-ID"';
  if (provided !== required) return `expected "${required}" but got "${provided}"`;
  const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  if (authorization === undefined) return 'missing Authorization header';
  const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  return signed.includes(SERVER_ID_HEADER) ? undefined : "vault header wasn't signed";
}

/** Sends the client's request to `endpoint` as the client signed it (its Host, path and headers). */
function replay(endpoint: string, signedUrl: URL, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const target = new URL(endpoint);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send({ hostname: target.hostname, port: target.port, method: 'POST', path: signedUrl.pathname, headers: { ...headers, host: signedUrl.host }, timeout: 10_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('timeout', () => request.destroy(new Error('STS did not answer within 10 s')));
    request.on('error', reject);
    request.end(body);
  });
}

/** `arn:aws:sts::<account>:assumed-role/<role>/<session>` → `arn:aws:iam::<account>:role/<role>`; other ARNs as they are. */
function canonicalArn(arn: string): string {
  const match = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return match === null ? arn : `arn:${match[1]}:iam::${match[2]}:role/${match[3]}`;
}
