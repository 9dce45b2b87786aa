import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import type { Command } from '../child/pid1.js';
import type { FileOwner } from '../render/write-files.js';
import { activationSockets, withoutActivation, type HeldSocket } from './activation.js';
import { listenShim, requireShimShell } from './listen-shim.js';
import { openSockets } from './open-sockets.js';

/** What `run` needs to pass the held sockets to every child. */
export interface HeldSockets {
  /** In the order the child sees them: fd 3 is the first. */
  readonly sockets: readonly HeldSocket[];
  /** secretvisor's environment without its own LISTEN_* variables. */
  readonly parentEnv: NodeJS.ProcessEnv;
  /** The descriptors in secretvisor to put at the child's fd 3, 4, … */
  readonly fds: readonly number[];
  /** The command, wrapped to set LISTEN_PID when there are sockets. */
  wrap(command: Command): Command;
  close(): Promise<void>;
}

/** Options of {@link holdSockets}. */
export interface HoldSocketsOptions {
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly pid: number;
  readonly childUser: FileOwner | undefined;
  readonly log: Logger;
}

/**
 * The sockets every child receives: first those secretvisor got by socket
 * activation (passed through), then those of `listen:`, opened here once.
 */
export async function holdSockets(options: HoldSocketsOptions): Promise<HeldSockets> {
  const { config, env, log } = options;
  const inherited = activationSockets(env, options.pid, log);
  if (inherited.length + config.listen.length > 0) requireShimShell();
  const opened = await openSockets(config.listen, { childUser: options.childUser, log });
  const sockets = [...inherited, ...opened.sockets];
  for (const socket of inherited) log.info({ socket: socket.name, fd: socket.fd }, `passing socket "${socket.name}" (fd ${socket.fd}, from socket activation) to the child`);
  const parentEnv = withoutActivation(env);
  const keep = new Set(['PWD', 'OLDPWD'].filter((name) => parentEnv[name] !== undefined && (config.inherit === 'all' || (config.inherit !== 'none' && config.inherit.has(name)))));
  return {
    sockets,
    parentEnv,
    fds: sockets.map((socket) => socket.fd),
    wrap: (command) => (sockets.length === 0 ? command : listenShim(command, sockets, keep)),
    close: opened.close,
  };
}
