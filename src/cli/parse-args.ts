import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { UsageError } from '../errors.js';

/** The verbs of SPEC.md. */
export const COMMANDS = ['run', 'check', 'env', 'render', 'audit', 'status', 'generate', 'schema'] as const;
export type CommandName = (typeof COMMANDS)[number];

const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  service: { type: 'string', short: 's' },
  pool: { type: 'string', short: 'p' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const OPTIONS = {
  run: {
    ...COMMON_OPTIONS,
    once: { type: 'boolean' },
    'on-change-env': { type: 'string' },
    'on-change-files': { type: 'string' },
    signal: { type: 'string' },
    'stop-signal': { type: 'string' },
    'stop-timeout': { type: 'string' },
    debounce: { type: 'string' },
    splay: { type: 'string' },
    'on-exit': { type: 'string' },
  },
  check: COMMON_OPTIONS,
  env: { ...COMMON_OPTIONS, format: { type: 'string' }, reveal: { type: 'boolean' } },
  render: { ...COMMON_OPTIONS, out: { type: 'string' } },
  // audit covers every source of the config, so it takes no --service or --pool.
  audit: {
    config: COMMON_OPTIONS.config,
    'log-level': COMMON_OPTIONS['log-level'],
    'log-format': COMMON_OPTIONS['log-format'],
    help: COMMON_OPTIONS.help,
    format: { type: 'string' },
    'max-age': { type: 'string' },
  },
  status: { ...COMMON_OPTIONS, json: { type: 'boolean' } },
  generate: COMMON_OPTIONS,
  schema: { help: { type: 'boolean', short: 'h' } },
} as const;

/** A parsed command line. */
export type ParsedArgs =
  | { readonly kind: 'version' }
  | { readonly kind: 'help'; readonly command?: CommandName | undefined }
  | {
      readonly kind: 'command';
      readonly command: CommandName;
      readonly values: Readonly<Record<string, string | boolean | undefined>>;
      /** For `run`: everything after `--`. */
      readonly childArgv: readonly string[];
    };

/**
 * Parses `secretvisor VERB [options] [-- COMMAND ARGS...]`. Unknown verbs and
 * options, and `run` without `-- COMMAND`, are usage errors (exit 64).
 */
export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { kind: 'help' };
  if (first === '--version' || first === '-V') return { kind: 'version' };
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`unknown command "${first}"`, { hint: `use one of: ${COMMANDS.join(', ')} (see secretvisor --help)` });
  }
  const command = first as CommandName;
  const split = rest.indexOf('--');
  const own = split === -1 ? rest : rest.slice(0, split);
  const childArgv = split === -1 ? [] : rest.slice(split + 1);
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: own, options: OPTIONS[command] as ParseArgsOptionsConfig, allowPositionals: true, strict: true });
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
  return { kind: 'command', command, values, childArgv };
}
