import { connect, createServer, type Server, type Socket } from 'node:net';

/** How the proxy treats traffic: forward it (after `latencyMs`), reset every connection, or swallow it all. */
export type ProxyMode = 'forward' | 'reset' | 'blackhole';

/**
 * A TCP proxy on a random loopback port in front of a real server, for
 * outage tests: `latencyMs` delays every chunk each way; `reset` answers
 * every connection (new and open, keep-alive ones too) with a TCP RST;
 * `blackhole` accepts connections and data and never answers. Setting the
 * mode applies to connections already open, as a real network fault would.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #open = new Set<Socket>();
  #mode: ProxyMode = 'forward';
  /** Added delay per chunk, each way. */
  latencyMs = 0;
  /** Connections accepted so far. */
  connections = 0;

  constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
    server.on('connection', (client) => this.#accept(client));
  }

  /** The proxy's port on 127.0.0.1. */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Changes how traffic is treated, for open connections too. */
  set mode(mode: ProxyMode) {
    this.#mode = mode;
    if (mode === 'reset') for (const socket of this.#open) socket.resetAndDestroy();
  }

  /** Closes the proxy and every connection through it. */
  async stop(): Promise<void> {
    for (const socket of this.#open) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(socket: Socket): void {
    this.#open.add(socket);
    socket.on('close', () => this.#open.delete(socket));
    socket.on('error', () => undefined);
  }

  #accept(client: Socket): void {
    this.connections += 1;
    this.#track(client);
    if (this.#mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.#target);
    this.#track(upstream);
    this.#pipe(client, upstream);
    this.#pipe(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => (this.#mode === 'blackhole' ? undefined : client.destroy()));
  }

  /** Forwards `from` → `to` chunk by chunk, in order, each after the latency of the moment; drops data while black-holed. */
  #pipe(from: Socket, to: Socket): void {
    let due = 0;
    from.on('data', (chunk: Buffer) => {
      if (this.#mode === 'blackhole') return;
      if (this.#mode === 'reset') {
        from.resetAndDestroy();
        return;
      }
      due = Math.max(Date.now() + this.latencyMs, due);
      const deliver = () => {
        if (this.#mode === 'forward' && !to.destroyed) to.write(chunk);
      };
      if (this.latencyMs === 0 && due <= Date.now()) deliver();
      else setTimeout(deliver, due - Date.now());
    });
    from.on('end', () => (this.#mode === 'blackhole' ? undefined : to.end()));
  }
}

/** Starts a {@link TcpProxy} on a random loopback port in front of `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const server = createServer({ pauseOnConnect: false });
  const proxy = new TcpProxy(server, target);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return proxy;
}
