import { CONFIG_FLAG_NAMES, type ConfigFlagName } from '../config/config-flags.js';
import type { LogFormat } from '../log.js';

/** How a flag is written on the command line and what it takes: on/off, any text, or one of a set of values. */
export type FlagSpec =
  | { readonly kind: 'boolean'; readonly short?: string }
  | { readonly kind: 'string'; readonly short?: string }
  | { readonly kind: 'choice'; readonly choices: readonly string[]; readonly short?: string };

/** pino's levels, `silent` included. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const satisfies readonly LogFormat[];

const BOOLEAN = { kind: 'boolean' } as const;
const STRING = { kind: 'string' } as const;

const COMMON_FLAGS = {
  config: { kind: 'string', short: 'c' },
  service: { kind: 'string', short: 's' },
  pool: { kind: 'string', short: 'p' },
  'log-level': { kind: 'choice', choices: LOG_LEVELS },
  'log-format': { kind: 'choice', choices: LOG_FORMATS },
  help: { kind: 'boolean', short: 'h' },
} as const;

// The flags that set config keys take any text here: the config's own
// validation checks them with the file (invalid config, exit 78).
const CONFIG_FLAGS = Object.fromEntries(CONFIG_FLAG_NAMES.map((name) => [name, STRING])) as { readonly [K in ConfigFlagName]: typeof STRING };

/**
 * Every command and its flags: the one declaration that the parser reads,
 * that the typed options of each command are derived from, and that says
 * which flags take one of a set of values.
 */
export const COMMAND_FLAGS = {
  run: { ...COMMON_FLAGS, once: BOOLEAN, ...CONFIG_FLAGS },
  check: COMMON_FLAGS,
  env: { ...COMMON_FLAGS, format: { kind: 'choice', choices: ['dotenv', 'json', 'shell'] }, reveal: BOOLEAN },
  render: { ...COMMON_FLAGS, out: STRING },
  // audit covers every source of the config, so it takes no --service or --pool.
  audit: {
    config: COMMON_FLAGS.config,
    'log-level': COMMON_FLAGS['log-level'],
    'log-format': COMMON_FLAGS['log-format'],
    help: COMMON_FLAGS.help,
    format: { kind: 'choice', choices: ['table', 'json'] },
    'max-age': STRING,
  },
  status: { ...COMMON_FLAGS, json: BOOLEAN },
  generate: COMMON_FLAGS,
  schema: { help: COMMON_FLAGS.help },
} as const satisfies Readonly<Record<string, Readonly<Record<string, FlagSpec>>>>;

/** The verbs of SPEC.md. */
export type CommandName = keyof typeof COMMAND_FLAGS;
export const COMMANDS = Object.keys(COMMAND_FLAGS) as readonly CommandName[];

type FlagValue<S> = S extends { readonly kind: 'boolean' } ? boolean : S extends { readonly choices: readonly (infer C)[] } ? C : string;

/** A command's options as its flags declare them, keyed by flag name; a flag not given is absent. */
export type CommandOptions<C extends CommandName> = {
  readonly [K in keyof (typeof COMMAND_FLAGS)[C]]?: FlagValue<(typeof COMMAND_FLAGS)[C][K]>;
};

/** The flags most commands share, as the CLI reads them for every command. */
export type CommonOptions = { readonly [K in keyof typeof COMMON_FLAGS]?: FlagValue<(typeof COMMON_FLAGS)[K]> };
