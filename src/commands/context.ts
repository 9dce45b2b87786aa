import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Identity } from '../scope/resolve-layers.js';
import type { CommandName, CommandOptions } from './command-flags.js';

/** What a command receives from the CLI: its typed options, the process's surroundings, and a logger. */
export interface CommandContext<C extends CommandName> {
  readonly options: CommandOptions<C>;
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
