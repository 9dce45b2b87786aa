import { ExitCode, SecretvisorError, UsageError, describeError } from './errors.js';
import { parseCliArgs } from './cli/parse-args.js';
import { HELP } from './cli/help.js';
import { validateChoice } from './cli/validate-choice.js';
import { LOG_FORMATS, LOG_LEVELS, type CommandName, type CommonOptions } from './commands/command-flags.js';
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

type CommandRunner<C extends CommandName> = (context: CommandContext<C>) => Promise<number>;

// Each command is imported only when used, so `schema` never loads sources and `check` never loads the child code.
const COMMAND_LOADERS: { readonly [C in CommandName]: () => Promise<CommandRunner<C>> } = {
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
    // Before any secret is in memory; `schema` reads none.
    if (parsed.command !== 'schema') startDisablingCoreDumps();
    const common: CommonOptions = parsed.options;
    const fromEnv = (name: string): string | undefined => surroundings.env[name] || undefined;
    const envChoice = <T extends string>(name: string, choices: readonly T[]): T | undefined => {
      const value = fromEnv(name);
      return value === undefined ? undefined : validateChoice(value, choices, `${parsed.command}: ${name}=${value}`);
    };
    // pino loads only when a command runs: --version, --help and usage errors do without it.
    const { createLogger, defaultLogFormat } = await import('./log.js');
    const level = common['log-level'] ?? envChoice('SECRETVISOR_LOG_LEVEL', LOG_LEVELS) ?? 'info';
    const format = common['log-format'] ?? envChoice('SECRETVISOR_LOG_FORMAT', LOG_FORMATS) ?? defaultLogFormat(surroundings.stderrIsTTY);
    const { isJournalStderr } = await import('./journal-stream.js');
    log = createLogger({ level, format, journal: isJournalStderr(surroundings.env) });
    return await runCommand(parsed.command, {
      options: parsed.options,
      childArgv: parsed.childArgv,
      env: surroundings.env,
      cwd: surroundings.cwd,
      get stdout() {
        return surroundings.stdout;
      },
      log,
      clock: systemClock,
      identity: { service: common.service ?? fromEnv('SECRETVISOR_SERVICE'), pool: common.pool ?? fromEnv('SECRETVISOR_POOL') },
      configFile: common.config ?? fromEnv('SECRETVISOR_CONFIG'),
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

async function runCommand<C extends CommandName>(command: C, context: CommandContext<C>): Promise<number> {
  const run = await COMMAND_LOADERS[command]();
  return run(context);
}
