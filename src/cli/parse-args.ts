import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { COMMANDS, COMMAND_FLAGS, type CommandName, type CommandOptions, type FlagSpec } from '../commands/command-flags.js';
import { validateChoice } from './validate-choice.js';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** One command with its options, typed for that command. */
export type ParsedCommand = {
  readonly [C in CommandName]: {
    readonly kind: 'command';
    readonly command: C;
    readonly options: CommandOptions<C>;
    /** For `run`: everything after `--`. */
    readonly childArgv: readonly string[];
  };
}[CommandName];

/** A parsed command line. */
export type ParsedArgs = { readonly kind: 'version' } | { readonly kind: 'help'; readonly command?: CommandName | undefined } | ParsedCommand;

/**
 * Parses `secretvisor VERB [options] [-- COMMAND ARGS...]` by the verb's
 * declared flags. Unknown verbs and options, a value outside a flag's
 * choices, and `run` without `-- COMMAND` are usage errors (exit 64).
 */
export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { kind: 'help' };
  if (first === '--version' || first === '-V') return { kind: 'version' };
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command "${first}"`, { hint: `use one of: ${COMMANDS.join(', ')} (see secretvisor --help)` });
  }
  const command = first as CommandName;
  const flags: Readonly<Record<string, FlagSpec>> = COMMAND_FLAGS[command];
  const split = rest.indexOf('--');
  const own = split === -1 ? rest : rest.slice(0, split);
  const childArgv = split === -1 ? [] : rest.slice(split + 1);
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: own, options: toParseArgsOptions(flags), allowPositionals: true, strict: true });
    values = parsed.values as Record<string, string | boolean | undefined>;
    positionals = parsed.positionals;
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`, { hint: `see secretvisor ${command} --help` });
  }
  if (values.help === true) return { kind: 'help', command };
  if (positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument "${positionals[0]}"`, {
      hint: command === 'run' ? 'put the command after --, as in: secretvisor run -- node server.js' : `see secretvisor ${command} --help`,
    });
  }
  if (command === 'run' && childArgv.length === 0) {
    throw new UsageError('run: no command to run', { hint: 'put the command after --, as in: secretvisor run -- node server.js' });
  }
  if (command !== 'run' && split !== -1) throw new UsageError(`${command} takes no command after --`);
  for (const [name, spec] of Object.entries(flags)) {
    const value = values[name];
    if (spec.kind === 'choice' && typeof value === 'string') validateChoice(value, spec.choices, `${command}: --${name} ${value}`);
  }
  // The values are the command's own flags, each of its declared kind, every choice checked above.
  return { kind: 'command', command, options: values, childArgv } as ParsedCommand;
}

function toParseArgsOptions(flags: Readonly<Record<string, FlagSpec>>): ParseArgsOptionsConfig {
  return Object.fromEntries(Object.entries(flags).map(([name, spec]) => [name, { type: spec.kind === 'boolean' ? 'boolean' : 'string', ...(spec.short === undefined ? {} : { short: spec.short }) }]));
}
