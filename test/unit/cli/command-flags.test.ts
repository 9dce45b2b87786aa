import { describe, expect, it } from 'vitest';
import { parseCliArgs, type ParsedArgs } from '../../../src/cli/parse-args.js';
import { validateChoice } from '../../../src/cli/validate-choice.js';
import { CONFIG_FLAG_NAMES } from '../../../src/config/config-flags.js';
import { COMMANDS, COMMAND_FLAGS } from '../../../src/commands/command-flags.js';
import { ExitCode, UsageError } from '../../../src/errors.js';

function parse(argv: readonly string[]): ParsedArgs {
  return parseCliArgs(argv);
}

function usageError(argv: readonly string[]): UsageError {
  let caught: unknown;
  try {
    parseCliArgs(argv);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UsageError);
  expect((caught as UsageError).exitCode).toBe(ExitCode.usage);
  return caught as UsageError;
}

// Every flag that takes one of a set of values, with those values.
const CHOICE_FLAGS = [
  ['run', 'log-level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']],
  ['check', 'log-format', ['json', 'pretty']],
  ['env', 'format', ['dotenv', 'json', 'shell']],
  ['audit', 'format', ['table', 'json']],
] as const;

const tail = (command: string): string[] => (command === 'run' ? ['--', '/bin/true'] : []);

describe('the command flags', () => {
  it('declare every command, in the order of SPEC.md', () => {
    expect(COMMANDS).toEqual(['run', 'check', 'env', 'render', 'audit', 'status', 'generate', 'schema']);
  });

  it('give run every flag that sets a config key, each taking text for the config to validate', () => {
    for (const name of CONFIG_FLAG_NAMES) expect(COMMAND_FLAGS.run[name]).toEqual({ kind: 'string' });
  });

  it('give audit no --service or --pool, and schema only --help', () => {
    expect(Object.keys(COMMAND_FLAGS.audit)).not.toContain('service');
    expect(Object.keys(COMMAND_FLAGS.audit)).not.toContain('pool');
    expect(Object.keys(COMMAND_FLAGS.schema)).toEqual(['help']);
  });
});

describe('parseCliArgs: typed options from the declaration', () => {
  it.each([
    [
      ['run', '--once', '-c', 'app.yaml', '-s', 'api', '-p', 'blue', '--on-exit', 'restart', '--', 'node', 'server.js'],
      'run',
      { once: true, config: 'app.yaml', service: 'api', pool: 'blue', 'on-exit': 'restart' },
      ['node', 'server.js'],
    ],
    [['run', '--stop-timeout', '3s', '--signal', 'SIGUSR1', '--', '/bin/true'], 'run', { 'stop-timeout': '3s', signal: 'SIGUSR1' }, ['/bin/true']],
    [['env', '--reveal', '--format', 'json'], 'env', { reveal: true, format: 'json' }, []],
    [['audit', '--format', 'json', '--max-age', '30d'], 'audit', { format: 'json', 'max-age': '30d' }, []],
    [['render', '--out', '/run/app'], 'render', { out: '/run/app' }, []],
    [['status', '--json', '--log-level', 'silent'], 'status', { json: true, 'log-level': 'silent' }, []],
    [['check'], 'check', {}, []],
  ] as const)('%j', (argv, command, options, childArgv) => {
    expect(parse(argv)).toEqual({ kind: 'command', command, options, childArgv });
  });

  it.each([[['run', '-h']], [['audit', '--help']], [['schema', '-h']]])('%j asks for help', (argv) => {
    expect(parse(argv)).toMatchObject({ kind: 'help' });
  });

  it.each([
    [['audit', '--service', 'api'], "audit: Unknown option '--service'"],
    [['schema', '--config', 'x'], "schema: Unknown option '--config'"],
    [['check', '--once'], "check: Unknown option '--once'"],
    [['env', '--reveal=yes'], "env: Option '--reveal' does not take an argument"],
  ] as const)('%j is a usage error: a flag the command does not declare, or of another kind', (argv, message) => {
    expect(usageError(argv).message).toContain(message);
  });
});

describe('flags that take one of a set of values: one check, one wording', () => {
  it.each(CHOICE_FLAGS)('%s --%s takes each of its values', (command, flag, choices) => {
    for (const choice of choices) {
      expect(parse([command, `--${flag}`, choice, ...tail(command)])).toMatchObject({ kind: 'command', options: { [flag]: choice } });
    }
  });

  it.each(CHOICE_FLAGS)('%s --%s refuses another value (exit 64), listing the values', (command, flag, choices) => {
    expect(usageError([command, `--${flag}`, 'xml', ...tail(command)]).message).toBe(`${command}: --${flag} xml is not one of ${choices.join(', ')}`);
  });

  it('are each covered above', () => {
    const declared = Object.entries(COMMAND_FLAGS).flatMap(([, flags]) => Object.entries(flags).flatMap(([name, spec]) => (spec.kind === 'choice' ? [name] : [])));
    expect(new Set(declared)).toEqual(new Set(CHOICE_FLAGS.map(([, flag]) => flag)));
  });

  it('words a value from the environment the same way', () => {
    expect(() => validateChoice('loud', ['info', 'debug'], 'run: SECRETVISOR_LOG_LEVEL=loud')).toThrow(new UsageError('run: SECRETVISOR_LOG_LEVEL=loud is not one of info, debug'));
  });
});
