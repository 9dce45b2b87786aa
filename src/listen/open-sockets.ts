import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { getChildUser } from '../child/resolve-user.js';
import { ConfigError, ExitCode, PermissionError, SecretvisorError } from '../errors.js';
import type { Logger } from '../log.js';
import type { FileOwner } from '../render/write-files.js';
import type { HeldSocket } from './activation.js';
import type { ListenConfig, UnixListenConfig } from './listen-config.js';

/** The sockets of `listen:`, open; `close` releases them and removes the Unix socket files. */
export interface OpenSockets {
  readonly sockets: readonly HeldSocket[];
  close(): Promise<void>;
}

/** Options of {@link openSockets}. */
export interface OpenSocketsOptions {
  /** Owner of Unix sockets without their own `user:`/`group:`. */
  readonly childUser: FileOwner | undefined;
  readonly log: Logger;
}

// What net._createServerHandle returns: Node's bound, not yet listening TCP or Pipe wrap.
interface ServerHandle {
  readonly fd: number;
  getsockname?(out: { address?: string; port?: number }): number;
  close(): void;
}
type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => ServerHandle | number;

/**
 * Binds every `listen:` socket and puts it in the listening state without
 * ever accepting on it here. Node's own listen would poll the socket, and
 * secretvisor would then take connections meant for the child; so the
 * socket is bound through the bound-only handle Node's cluster uses, and a
 * short-lived helper process calls listen(2) on it. Listening is a state of
 * the socket, not of a descriptor: it stays after the helper exits, and the
 * kernel queues connections in its backlog while no child accepts.
 */
export async function openSockets(configs: readonly ListenConfig[], options: OpenSocketsOptions): Promise<OpenSockets> {
  const handles: ServerHandle[] = [];
  const unixPaths: string[] = [];
  const close = async (): Promise<void> => {
    for (const handle of handles.splice(0)) handle.close();
    await Promise.all(unixPaths.splice(0).map((path) => unlink(path).catch(() => undefined)));
  };
  try {
    for (const config of configs) {
      if (config.kind === 'unix') await clearStaleSocket(config);
      handles.push(bind(config));
      if (config.kind === 'unix') {
        unixPaths.push(config.path);
        await setUnixOwnership(config, options.childUser);
      }
    }
    await listenInHelper(configs, handles);
  } catch (error) {
    await close();
    throw error;
  }
  const sockets = configs.map((config, index) => ({ name: config.name, fd: (handles[index] as ServerHandle).fd }));
  configs.forEach((config, index) => {
    const address = describe(config, handles[index]);
    options.log.info({ socket: config.name, address }, `holding socket "${config.name}" on ${address}`);
  });
  return { sockets, close };
}

// With a handle, the port is the one bound (port 0 in the config picks a free one).
function describe(config: ListenConfig, handle?: ServerHandle): string {
  if (config.kind === 'unix') return config.path;
  const bound: { port?: number } = {};
  const port = handle?.getsockname?.(bound) === 0 && bound.port !== undefined ? bound.port : config.port;
  return `${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
}

function bind(config: ListenConfig): ServerHandle {
  const create = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
  const handle = config.kind === 'tcp' ? create(config.host, config.port, net.isIPv6(config.host) ? 6 : 4) : create(config.path, -1, -1);
  if (typeof handle === 'number') throw bindError(config, getSystemErrorName(handle));
  return handle;
}

function bindError(config: ListenConfig, code: string): SecretvisorError {
  const where = `listen "${config.name}" (${describe(config)})`;
  if (code === 'EACCES' || code === 'EPERM') {
    return new PermissionError(`${where}: not allowed to bind (${code})`, {
      hint: config.kind === 'tcp' ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE; pick a higher port' : 'secretvisor needs write access to the folder of the socket',
    });
  }
  if (code === 'EADDRINUSE')
    return new SecretvisorError(ExitCode.unavailable, `${where}: the address is in use (EADDRINUSE)`, { hint: 'stop the other process that listens there, or pick another address' });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EINVAL')
    return new ConfigError(`${where}: not an address of this host (${code})`, { hint: 'use an IP address this host has, such as 127.0.0.1 or 0.0.0.0' });
  if (code === 'ENOENT') return new ConfigError(`${where}: its folder does not exist`, { hint: 'create the folder first (for systemd, RuntimeDirectory=)' });
  return new SecretvisorError(ExitCode.failure, `${where}: cannot bind (${code})`);
}

// A socket file left by a run that was killed makes bind fail: remove it, but only when nobody listens on it.
async function clearStaleSocket(config: UnixListenConfig): Promise<void> {
  const stats = await lstat(config.path).catch(() => undefined);
  if (stats === undefined) return;
  if (!stats.isSocket()) {
    throw new ConfigError(`listen "${config.name}": ${config.path} exists and is not a socket`, { hint: 'remove it or choose another path; secretvisor replaces only stale sockets' });
  }
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = net.connect(config.path);
    probe.once('connect', () => (probe.destroy(), resolve(true))).once('error', () => resolve(false));
  });
  if (inUse) throw new SecretvisorError(ExitCode.unavailable, `listen "${config.name}": another process listens on ${config.path}`, { hint: 'stop it, or choose another path' });
  await unlink(config.path);
}

async function setUnixOwnership(config: UnixListenConfig, childUser: FileOwner | undefined): Promise<void> {
  const own = config.user === undefined && config.group === undefined ? childUser : await getChildUser({ user: config.user, group: config.group });
  if (own !== undefined) await chown(config.path, own.uid, own.gid);
  await chmod(config.path, config.mode);
}

// The helper listens on fds 3… with each socket's backlog, then exits: listen(2) is done synchronously by Node.
const HELPER = `const net=require('net');const b=JSON.parse(process.argv[1]);let n=b.length;
b.forEach((backlog,i)=>{const s=net.createServer();s.on('error',e=>{process.stderr.write('fd '+(3+i)+': '+e.code+'\\n');process.exit(1)});s.listen({fd:3+i,backlog},()=>{if(--n===0)process.exit(0)})});`;

async function listenInHelper(configs: readonly ListenConfig[], handles: readonly ServerHandle[]): Promise<void> {
  if (configs.length === 0) return;
  const helper = spawn(process.execPath, ['-e', HELPER, JSON.stringify(configs.map((config) => config.backlog))], {
    env: {},
    stdio: ['ignore', 'ignore', 'pipe', ...handles.map((handle) => handle.fd)],
  });
  let stderr = '';
  helper.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(helper, 'close')) as [number | null];
  if (code !== 0) throw new SecretvisorError(ExitCode.failure, `listen: could not put the sockets in the listening state (${stderr.trim() || `helper exited with ${code}`})`);
}
