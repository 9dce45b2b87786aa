import { describe, expect, it } from 'vitest';
import { parseCliArgs, type ParsedArgs } from '../../../src/cli/parse-args.js';
import { UsageError } from '../../../src/errors.js';
import { thrownBy } from '../../helpers/thrown.js';

const command = (name: string, options: Record<string, string | boolean> = {}, childArgv: string[] = []): ParsedArgs =>
  ({ kind: 'command', command: name, options, childArgv }) as unknown as ParsedArgs;

describe('parseCliArgs', () => {
  it.each<[string[], ParsedArgs]>([
    [[], { kind: 'help' }],
    [['--help'], { kind: 'help' }],
    [['-h'], { kind: 'help' }],
    [['help'], { kind: 'help' }],
    [['run', '--help'], { kind: 'help', command: 'run' }],
    [['check', '-h'], { kind: 'help', command: 'check' }],
    [['schema', '--help'], { kind: 'help', command: 'schema' }],
    [['--version'], { kind: 'version' }],
    [['-V'], { kind: 'version' }],
    [['run', '--', 'node', 'server.js'], command('run', {}, ['node', 'server.js'])],
    [['run', '-c', 'sv.yaml', '-s', 'worker', '-p', 'finance', '--once', '--', '/bin/true'], command('run', { config: 'sv.yaml', service: 'worker', pool: 'finance', once: true }, ['/bin/true'])],
    [
      [
        'run',
        '--on-change-env',
        'signal',
        '--on-change-files',
        'none',
        '--signal',
        'SIGUSR1',
        '--stop-signal',
        'SIGINT',
        '--stop-timeout',
        '5s',
        '--debounce',
        '1s',
        '--splay',
        '2s',
        '--on-exit',
        'restart',
        '--',
        'x',
      ],
      command('run', { 'on-change-env': 'signal', 'on-change-files': 'none', signal: 'SIGUSR1', 'stop-signal': 'SIGINT', 'stop-timeout': '5s', debounce: '1s', splay: '2s', 'on-exit': 'restart' }, [
        'x',
      ]),
    ],
    [['run', '--log-level', 'debug', '--log-format', 'json', '--', 'x'], command('run', { 'log-level': 'debug', 'log-format': 'json' }, ['x'])],
    [['run', '--', 'sh', '-c', 'echo --once', '--', '--help'], command('run', {}, ['sh', '-c', 'echo --once', '--', '--help'])],
    [['check', '--service', 'worker'], command('check', { service: 'worker' })],
    [['env', '--format', 'json', '--reveal'], command('env', { format: 'json', reveal: true })],
    [['render', '--out', '/tmp/out'], command('render', { out: '/tmp/out' })],
    [['audit', '-c', 'sv.yaml', '--format', 'json', '--max-age', '90d'], command('audit', { config: 'sv.yaml', format: 'json', 'max-age': '90d' })],
    [['status', '--json'], command('status', { json: true })],
    [['generate', '-c', 'sv.yaml'], command('generate', { config: 'sv.yaml' })],
    [['schema'], command('schema')],
  ])('%j', (argv, parsed) => {
    expect(parseCliArgs(argv)).toEqual(parsed);
  });

  it.each<[string[], string, string | undefined]>([
    [['launch'], 'unknown command "launch"', 'use one of: run, check, env, render, audit, status, generate, schema (see secretvisor --help)'],
    [['--bogus'], 'unknown command "--bogus"', 'use one of: run, check, env, render, audit, status, generate, schema (see secretvisor --help)'],
    [['run', '/bin/true'], 'run: unexpected argument "/bin/true"', 'put the command after --, as in: secretvisor run -- node server.js'],
    [['run'], 'run: no command to run', 'put the command after --, as in: secretvisor run -- node server.js'],
    [['run', '--'], 'run: no command to run', 'put the command after --, as in: secretvisor run -- node server.js'],
    [['run', '--bogus', '--', '/bin/true'], "run: Unknown option '--bogus'", 'see secretvisor run --help'],
    [['run', '-c'], "run: Option '-c, --config <value>' argument missing", 'see secretvisor run --help'],
    [['run', '--once=yes', '--', 'x'], "run: Option '--once' does not take an argument", 'see secretvisor run --help'],
    [['check', '--', 'x'], 'check takes no command after --', undefined],
    [['check', 'extra'], 'check: unexpected argument "extra"', 'see secretvisor check --help'],
    [['check', '--once'], "check: Unknown option '--once'", 'see secretvisor check --help'],
    [['audit', '--service', 'worker'], "audit: Unknown option '--service'", 'see secretvisor audit --help'],
    [['schema', '-c', 'sv.yaml'], "schema: Unknown option '-c'", 'see secretvisor schema --help'],
  ])('refuses %j: exit 64 with what to do', (argv, message, hint) => {
    const error = thrownBy(() => parseCliArgs(argv));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(message);
    expect(error).toMatchObject({ exitCode: 64, hint });
  });
});
