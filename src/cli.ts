import type { LogFormat } from './log.js';
import { ExitCode, SecretvisorError, UsageError, describeError } from './errors.js';
import { parseCliArgs, type CommandName } from './cli/parse-args.js';
import { HELP } from './cli/help.js';
import type { CommandContext } from './commands/context.js';
import { VERSION } from './version.js';
import { systemClock } from './clock.js';
import { startDisablingCoreDumps } from './hardening/core-dumps.js';

/** The process's surroundings, passed in so tests can run the CLI in-process. */
export interface CliEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stderrIsTTY: boolean;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const LOG_FORMATS = ['json', 'pretty'] as const;

type CommandRunner = (context: CommandContext) => Promise<number>;

// Each command is imported only when used, so `schema` never loads sources and `check` never loads the child code.
const COMMAND_LOADERS: Record<CommandName, () => Promise<CommandRunner>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  env: async () => (await import('./commands/env.js')).envCommand,
  render: async () => (await import('./commands/render.js')).renderCommand,
  audit: async () => (await import('./commands/audit.js')).auditCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  generate: async () => (await import('./commands/generate.js')).generateCommand,
  schema: async () => (await import('./commands/schema.js')).schemaCommand,
};

/**
 * Runs one command line and resolves with the exit code of SPEC.md. Every
 * failure ends here as one clear message on stderr (no stack trace) and its
 * exit code; nothing below this exits the process.
 */
export async function runCli(argv: readonly string[], surroundings: CliEnvironment): Promise<number> {
  let log;
  try {
    const parsed = parseCliArgs(argv);
    if (parsed.kind === 'version') {
      surroundings.stdout.write(`secretvisor ${VERSION}\n`);
      return ExitCode.ok;
    }
    if (parsed.kind === 'help') {
      surroundings.stdout.write(HELP);
      return ExitCode.ok;
    }
    const { values } = parsed;
    // Before any secret is in memory; `schema` reads none.
    if (parsed.command !== 'schema') startDisablingCoreDumps();
    const text = (name: string, envName: string): string | undefined => {
      const value = values[name];
      return typeof value === 'string' ? value : surroundings.env[envName] || undefined;
    };
    // pino loads only when a command runs: --version, --help and usage errors do without it.
    const { createLogger, defaultLogFormat } = await import('./log.js');
    const level = validateChoice(text('log-level', 'SECRETVISOR_LOG_LEVEL') ?? 'info', LOG_LEVELS, '--log-level');
    const format = validateChoice(
      text('log-format', 'SECRETVISOR_LOG_FORMAT') ?? defaultLogFormat(surroundings.stderrIsTTY),
      LOG_FORMATS,
      '--log-format',
    ) as LogFormat;
    const { isJournalStderr } = await import('./journal-stream.js');
    log = createLogger({ level, format, journal: isJournalStderr(surroundings.env) });
    const run = await COMMAND_LOADERS[parsed.command]();
    return await run({
      values,
      childArgv: parsed.childArgv,
      env: surroundings.env,
      cwd: surroundings.cwd,
      get stdout() {
        return surroundings.stdout;
      },
      log,
      clock: systemClock,
      identity: { service: text('service', 'SECRETVISOR_SERVICE'), pool: text('pool', 'SECRETVISOR_POOL') },
      configFile: text('config', 'SECRETVISOR_CONFIG'),
    });
  } catch (error) {
    const code = error instanceof SecretvisorError ? error.exitCode : ExitCode.failure;
    if (log !== undefined && !(error instanceof UsageError)) {
      const message = error instanceof SecretvisorError ? error.message : `unexpected failure: ${describeError(error)}`;
      log.error({ exitCode: code, fix: error instanceof SecretvisorError ? error.hint : undefined }, message);
    } else {
      surroundings.stderr.write(`secretvisor: ${describeError(error)}\n`);
    }
    return code;
  }
}

function validateChoice<T extends string>(value: string, choices: readonly T[], flag: string): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} ${value} is not one of ${choices.join(', ')}`);
  }
  return value as T;
}
