import { fstatSync } from 'node:fs';
import type { Logger } from '../log.js';

/** A listening socket secretvisor holds, by the file descriptor it has in secretvisor. */
export interface HeldSocket {
  readonly name: string;
  readonly fd: number;
}

/** The variables of systemd's socket-activation protocol. */
export const ACTIVATION_VARIABLES = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

// sd_listen_fds(3): passed descriptors start at 3.
const FIRST_FD = 3;

/**
 * The sockets systemd (or another service manager) passed to secretvisor
 * itself: fds 3 to 3+LISTEN_FDS-1, named by LISTEN_FDNAMES ("unknown" where
 * it names none), but only when LISTEN_PID is secretvisor's own pid — the
 * variables were meant for another process otherwise (an ancestor that
 * leaked them), and are ignored with a warning.
 */
export function activationSockets(env: NodeJS.ProcessEnv, pid: number, log: Logger): HeldSocket[] {
  if (env.LISTEN_FDS === undefined && env.LISTEN_PID === undefined) return [];
  if (env.LISTEN_PID !== String(pid)) {
    log.warn(
      { listenPid: env.LISTEN_PID, pid },
      `LISTEN_PID is ${env.LISTEN_PID ?? 'unset'}, not secretvisor's pid ${pid}: the socket-activation variables were meant for another process and are ignored`,
    );
    return [];
  }
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 0) {
    log.warn({ listenFds: env.LISTEN_FDS }, `LISTEN_FDS is ${JSON.stringify(env.LISTEN_FDS)}, not a count of sockets: ignored`);
    return [];
  }
  const names = env.LISTEN_FDNAMES === undefined ? [] : env.LISTEN_FDNAMES.split(':');
  const sockets: HeldSocket[] = [];
  for (let index = 0; index < count; index++) {
    const fd = FIRST_FD + index;
    if (!isSocket(fd)) {
      log.warn({ fd }, `socket activation: fd ${fd} is not an open socket; it is not passed on`);
      continue;
    }
    const name = names[index];
    sockets.push({ name: name === undefined || name === '' ? 'unknown' : name, fd });
  }
  return sockets;
}

function isSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

/** `env` without the socket-activation variables, which must never reach a child except as set for it. */
export function withoutActivation(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of ACTIVATION_VARIABLES) delete copy[name];
  return copy;
}
