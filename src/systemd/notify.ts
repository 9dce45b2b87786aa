import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { findCommand } from '../child/find-command.js';
import type { Logger } from '../log.js';

/** Sends service-manager notifications (`READY=1`, `STOPPING=1`) to systemd. */
export interface Notifier {
  /** Queues one notification; never throws (a failure is logged). */
  readonly notify: (state: string) => void;
  /** Resolves once every queued notification has been delivered or has failed. */
  readonly settled: () => Promise<void>;
}

/** Options of {@link createNotifier}. */
export interface NotifierOptions {
  /** secretvisor's own environment: NOTIFY_SOCKET and PATH come from here. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
}

const NOTIFY_PROGRAM = 'systemd-notify';
// systemd-notify waits up to 5 s for systemd to confirm it processed the
// message (its barrier); past this it is stuck and is killed.
const SEND_TIMEOUT_MS = 10_000;

/**
 * A notifier for systemd's `Type=notify`, or undefined when NOTIFY_SOCKET is
 * unset (not started by systemd). Node has no Unix datagram sockets, so each
 * notification runs `systemd-notify`: running as root, it sends with
 * secretvisor's PID as the sender (its parent), which `NotifyAccess=main`
 * accepts; as another user the kernel does not allow that, the sender is
 * systemd-notify itself, and the unit needs `NotifyAccess=all`. systemd-notify
 * waits until systemd has processed the message, so the sender is still
 * alive when systemd looks it up. Notifications go out one at a time, in order.
 */
export function createNotifier(options: NotifierOptions): Notifier | undefined {
  const socket = options.env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return undefined;
  const log = options.log.child({ component: 'systemd' });
  let program: string;
  try {
    program = findCommand(NOTIFY_PROGRAM, options.env.PATH);
  } catch {
    log.error(
      { notifySocket: socket },
      `NOTIFY_SOCKET is set but ${NOTIFY_PROGRAM} is not on PATH: systemd will not learn that the service is ready; install systemd's ${NOTIFY_PROGRAM} or set Type=exec in the unit`,
    );
    return undefined;
  }
  let queue: Promise<void> = Promise.resolve();
  return {
    notify: (state) => {
      const args = state === 'READY=1' ? [state, `MAINPID=${process.pid}`] : [state];
      queue = queue.then(() => send(program, args, socket, log));
    },
    settled: () => queue,
  };
}

async function send(program: string, args: readonly string[], socket: string, log: Logger): Promise<void> {
  // Only NOTIFY_SOCKET: systemd-notify needs nothing else, and gets no secret.
  const child = spawn(program, args, { env: { NOTIFY_SOCKET: socket }, stdio: ['ignore', 'ignore', 'pipe'], timeout: SEND_TIMEOUT_MS });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    if (code === 0) {
      log.debug({ state: args.join(' ') }, `notified systemd: ${args.join(' ')}`);
      return;
    }
    log.warn(
      { state: args.join(' '), exitCode: code, signal, stderr: stderr.trim() },
      `${program} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}; check NotifyAccess= in the unit (all when secretvisor does not run as root)`,
    );
  } catch (error) {
    log.warn({ state: args.join(' '), err: (error as Error).message }, `could not run ${program}: ${(error as Error).message}`);
  }
}
