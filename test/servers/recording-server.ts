import { createServer, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** One request the recording server received, whole: headers and body are kept, to prove what was (not) sent. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A loopback HTTP server playing "another host": it keeps every request and answers with `answer`. */
export interface RecordingServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly received: RecordedRequest[];
  /** Everything received, as one text, for "this credential never arrived" checks. */
  text(): string;
  stop(): Promise<void>;
}

/**
 * Starts a server that records every request and answers each with `answer`
 * as JSON (by default a KV v2 envelope, so a client that accepted it would
 * hand its values on as secrets).
 */
export async function startRecordingServer(answer: unknown): Promise<RecordingServer> {
  const received: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const text = JSON.stringify(answer);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    text: () => received.map((request) => `${request.method} ${request.url}\n${JSON.stringify(request.headers)}\n${request.body}`).join('\n'),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
