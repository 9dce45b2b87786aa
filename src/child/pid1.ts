import type { Logger } from '../log.js';
import { findOnPath } from '../lib/find-on-path.js';

/** A program to start: its absolute path and arguments. */
export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  /**
   * True when the program is a wrapper (tini) that starts the service as its
   * child and passes signals on to it: the service's handlers are what count.
   */
  readonly forwardsSignals?: boolean;
  /** The service's own program when `file` is a wrapper, for the log. */
  readonly program?: string;
}

/**
 * As PID 1 (a container entrypoint), secretvisor must reap orphans, which
 * Node cannot do. When Debian's `tini` is on PATH, the service runs under
 * `tini -s -g --`: tini, as subreaper, reaps them and forwards signals to the
 * service's group. Elsewhere the command is unchanged.
 */
export function wrapForPid1(command: Command, options: { isPid1: boolean; path: string | undefined; log: Logger }): Command {
  if (!options.isPid1) return command;
  const tini = findOnPath('tini', options.path).found;
  if (tini === undefined) {
    options.log.warn('running as PID 1 without tini: orphaned processes will not be reaped; install tini or run the container with --init');
    return command;
  }
  return { file: tini, args: ['-s', '-g', '--', command.file, ...command.args], forwardsSignals: true, program: command.file };
}

/**
 * Wraps `command` in util-linux `setpriv --pdeathsig SIGNAL`, so that the
 * child gets `signal` if secretvisor dies without stopping it (SIGKILL, the
 * OOM killer). Unchanged under tini (as PID 1, the whole namespace ends with
 * secretvisor), where setpriv is missing, and in a systemd unit (`INVOCATION_ID`
 * set): there the unit's control group already ends every process when
 * secretvisor dies, and setpriv cannot run at all under the shipped units'
 * seccomp filter ("activate capabilities: Operation not permitted", exit 127,
 * seen under a real systemd 252).
 */
export function wrapForParentDeath(command: Command, signal: NodeJS.Signals, env: NodeJS.ProcessEnv): Command {
  if (command.forwardsSignals === true || process.platform !== 'linux' || env.INVOCATION_ID !== undefined) return command;
  const setpriv = findOnPath('setpriv', env.PATH).found;
  if (setpriv === undefined) return command;
  return { file: setpriv, args: ['--pdeathsig', signal, '--', command.file, ...command.args], program: command.program ?? command.file };
}
