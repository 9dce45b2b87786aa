import { accessSync, constants } from 'node:fs';
import type { Command } from '../child/pid1.js';
import { ConfigError } from '../errors.js';
import type { HeldSocket } from './activation.js';

/** The POSIX shell that sets LISTEN_PID; Debian, Alpine (busybox) and most images have it. */
export const SHIM_SHELL = '/bin/sh';

// Variables a POSIX shell exports on its own (dash, busybox: PWD; bash also OLDPWD): not the child's unless it inherits them.
const SHELL_ADDED = ['PWD', 'OLDPWD'] as const;

/**
 * The command wrapped so the child receives the held sockets by systemd's
 * protocol: `LISTEN_PID` must be the child's own pid, which exists only
 * after fork, and Node 20 can set nothing between fork and exec. So the
 * child is started through `/bin/sh -c '… LISTEN_PID=$$ … exec "$0" "$@"'`:
 * `$$` is the shell's pid, and `exec` keeps it for the program. The shell's
 * own PWD/OLDPWD are unset unless `keep` names them (the child inherits them).
 */
export function listenShim(command: Command, sockets: readonly HeldSocket[], keep: ReadonlySet<string>): Command {
  const unset = SHELL_ADDED.filter((name) => !keep.has(name));
  const script = [
    ...(unset.length > 0 ? [`unset ${unset.join(' ')}`] : []),
    'LISTEN_PID=$$',
    `LISTEN_FDS=${sockets.length}`,
    `LISTEN_FDNAMES=${shellQuote(sockets.map((socket) => socket.name).join(':'))}`,
    'export LISTEN_PID LISTEN_FDS LISTEN_FDNAMES',
    'exec "$0" "$@"',
  ].join('; ');
  return { file: SHIM_SHELL, args: ['-c', script, command.file, ...command.args] };
}

/** Throws ConfigError (exit 78) when there is no shell to set LISTEN_PID with. */
export function requireShimShell(shell = SHIM_SHELL): void {
  try {
    accessSync(shell, constants.X_OK);
  } catch {
    throw new ConfigError(`listen: needs ${shell} to give each child LISTEN_PID (its own pid), and there is none`, {
      hint: 'add a POSIX shell to the image (busybox is 1 MB), or remove listen: and let the service open its own socket; see docs/zero-downtime.md',
    });
  }
}

// LISTEN_FDNAMES from systemd may hold any printable character but ':'.
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
