import { constants } from 'node:os';
import { ExitCode } from '../errors.js';

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the program could not be started at all (errno name). */
  readonly spawnError?: string | undefined;
}

/** The exit code of SPEC.md for a child's end: its own code, 128 + N for signal N, 127/126 when it never ran. */
export function exitCodeOf(exit: ChildExit): number {
  if (exit.spawnError === 'ENOENT') return ExitCode.notFound;
  if (exit.spawnError !== undefined) return ExitCode.cannotExecute;
  if (exit.signal !== null) return 128 + signalNumber(exit.signal);
  return exit.code ?? ExitCode.failure;
}

/** The number of a signal name on this system. */
export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal];
}

/** How a child ended, for log lines: "exited with code 3", or "was ended by SIGKILL (exit code 137)". */
export function describeExit(exit: ChildExit): string {
  return exit.signal === null ? `exited with code ${exitCodeOf(exit)}` : `was ended by ${exit.signal} (exit code ${exitCodeOf(exit)})`;
}
