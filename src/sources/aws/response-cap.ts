import type { Readable } from 'node:stream';

/** An AWS answer larger than the source's `maxResponseSize`; the rest of it was never read. */
export class ResponseTooLargeError extends Error {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`the answer is larger than ${limitBytes} bytes`);
    this.name = 'ResponseTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** The slice of an SDK client's middleware stack the cap is added to. */
interface MiddlewareStack {
  add(middleware: unknown, options: { readonly step: 'deserialize'; readonly priority: 'low'; readonly name: string }): void;
}

interface RawResponse {
  readonly headers: Readonly<Record<string, string | undefined>>;
  body: unknown;
}

type Next = (args: unknown) => Promise<{ readonly response: unknown; readonly output?: unknown }>;

/**
 * Caps every answer `client` receives at `limitBytes`. The middleware sits
 * right above the HTTP handler, below the SDK's deserializer: it refuses a
 * declared Content-Length over the cap before reading a byte, and otherwise
 * reads the raw stream itself, destroying the connection the moment the
 * count passes the cap. Only what fits under the cap is ever held; the
 * deserializer then gets those bytes instead of the stream.
 */
export function capResponseSize(client: { readonly middlewareStack: MiddlewareStack }, limitBytes: number): void {
  const middleware =
    (next: Next) =>
    async (args: unknown): Promise<unknown> => {
      const result = await next(args);
      const response = result.response as RawResponse;
      response.body = await readCapped(response, limitBytes);
      return result;
    };
  client.middlewareStack.add(middleware, { step: 'deserialize', priority: 'low', name: 'secretvisorResponseSizeCap' });
}

async function readCapped(response: RawResponse, limitBytes: number): Promise<Uint8Array> {
  const body = response.body as Readable | Uint8Array | undefined;
  if (body === undefined) return new Uint8Array();
  if (body instanceof Uint8Array) {
    if (body.length > limitBytes) throw new ResponseTooLargeError(limitBytes);
    return body;
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    body.destroy();
    throw new ResponseTooLargeError(limitBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      body.destroy();
      throw new ResponseTooLargeError(limitBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
