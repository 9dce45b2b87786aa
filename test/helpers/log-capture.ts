import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';
import { parseJsonLines } from './json-lines.js';
import { expectNoLeak } from './secrets.js';

/** One JSON line of secretvisor's log. */
export type LogEntry = Readonly<Record<string, unknown>> & { readonly msg?: string; readonly level?: number; readonly time?: string };

/**
 * The JSON log lines of `output` (secretvisor's stderr, or a {@link LogCapture}'s
 * text), parsed. Other lines, such as the child's own output on the same
 * stderr, are left out, and so is a last line not finished yet.
 */
export function logEntries(output: string): LogEntry[] {
  return parseJsonLines<LogEntry>(output, (line) => line.startsWith('{'));
}

/**
 * The text of secretvisor's log lines — each JSON line's `msg` and `fix` —
 * with other lines as they are, so tests can look for a message without
 * caring about JSON escaping.
 */
export function logText(output: string): string {
  return output
    .split('\n')
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; fix?: string };
        return [entry.msg, entry.fix].filter((part) => part !== undefined).join('\n');
      } catch {
        return line;
      }
    })
    .join('\n');
}

/** What a logger under test wrote, kept for assertions and the leak check. */
export interface LogCapture {
  /** secretvisor's JSON logger, at trace level, writing to {@link LogCapture.destination}. */
  readonly log: Logger;
  /** Where the lines go; another writer (a Console) may write here too. */
  readonly destination: Writable;
  /** Everything written so far. */
  text(): string;
  /** The JSON lines written so far, parsed. */
  entries(): LogEntry[];
  /** Each line's `msg`, in order. */
  messages(): string[];
  /** Fails when a secret issued in this test file appears in what was written. */
  expectNoLeak(where: string): void;
}

/** A logger whose every line (trace included) is kept in memory. */
export function captureLog(): LogCapture {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = (): string => chunks.join('');
  const entries = (): LogEntry[] => logEntries(text());
  return {
    log: createLogger({ level: 'trace', format: 'json', destination }),
    destination,
    text,
    entries,
    messages: () => entries().map((entry) => String(entry.msg)),
    expectNoLeak: (where) => expectNoLeak(text(), where),
  };
}
