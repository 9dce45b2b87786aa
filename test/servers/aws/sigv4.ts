import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The parts of a SigV4 `Authorization` header. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** `date/region/service/aws4_request`. */
  readonly scope: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const AUTHORIZATION_PATTERN = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

/** Reads a SigV4 `Authorization` header; undefined when it is missing or not SigV4. */
export function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  const match = header === undefined ? null : AUTHORIZATION_PATTERN.exec(header);
  if (match === null) return undefined;
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as readonly string[];
  return {
    accessKeyId: accessKeyId as string,
    scope: `${date}/${region}/${service}/aws4_request`,
    date: date as string,
    region: region as string,
    service: service as string,
    signedHeaders: (signedHeaders as string).split(';'),
    signature: signature as string,
  };
}

/** What {@link isValidSignature} recomputes the signature from. */
export interface SignedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly authorization: SigV4Authorization;
  readonly secretAccessKey: string;
}

/**
 * Recomputes the request's SigV4 signature with the secret key the server
 * knows for its access key id, so a request only passes when the client held
 * the matching secret key (and session token, when one was signed).
 */
export function isValidSignature(request: SignedRequest): boolean {
  const { authorization } = request;
  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (amzDate === undefined || !amzDate.startsWith(authorization.date)) return false;
  const url = new URL(request.url, 'http://localhost');
  const canonicalRequest = [
    request.method,
    url.pathname === '' ? '/' : url.pathname,
    canonicalQuery(url.searchParams),
    authorization.signedHeaders.map((name) => `${name}:${headerValue(request.headers, name) ?? ''}\n`).join(''),
    authorization.signedHeaders.join(';'),
    sha256Hex(request.body),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, authorization.scope, sha256Hex(canonicalRequest)].join('\n');
  const key = [authorization.date, authorization.region, authorization.service, 'aws4_request'].reduce<Buffer>(
    (previous, part) => hmac(previous, part),
    Buffer.from(`AWS4${request.secretAccessKey}`, 'utf8'),
  );
  const expected = hmac(key, stringToSign);
  const received = Buffer.from(authorization.signature, 'hex');
  return received.length === expected.length && timingSafeEqual(received, expected);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined.trim().replace(/\s+/g, ' ');
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params.entries()]
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
