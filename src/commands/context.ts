import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Identity } from '../scope/resolve-layers.js';

/** What every command receives from the CLI: its options, the process's surroundings, and a logger. */
export interface CommandContext {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly childArgv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  readonly log: Logger;
  /** The one clock of the process: everything that measures or waits gets it from here. */
  readonly clock: Clock;
  readonly identity: Identity;
  /** --config or SECRETVISOR_CONFIG. */
  readonly configFile: string | undefined;
}

/** A string option's value, if given. */
export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}
