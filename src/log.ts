import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { createRequire } from 'node:module';
import { withSyslogPriority } from './journal-stream.js';

/** The logger every module receives; children carry a `component`. */
export type Logger = PinoLogger;

export type LogFormat = 'json' | 'pretty';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LevelWithSilent;
  readonly format: LogFormat;
  /** Where lines go; stderr by default. */
  readonly destination?: NodeJS.WritableStream;
  /** stderr is the journal: each JSON line starts with its syslog priority (`<4>` for a warning). */
  readonly journal?: boolean;
}

/**
 * Makes the root logger: one JSON line per event on stderr, or pino-pretty
 * (loaded only then) for people at a terminal. Writes synchronously so that
 * the last lines before an exit are never lost.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { name: 'secretvisor' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (options.format === 'pretty') {
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (options: object) => NodeJS.WritableStream;
    return pino(base, pretty({ sync: true, destination: 2, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss.l' }));
  }
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  return pino(base, options.journal === true ? withSyslogPriority(destination) : destination);
}

/** The format to use when none was asked for: pretty only when a person is watching stderr. */
export function defaultLogFormat(stderrIsTTY: boolean): LogFormat {
  return stderrIsTTY ? 'pretty' : 'json';
}

/** A logger that drops everything, for tests and quiet commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
