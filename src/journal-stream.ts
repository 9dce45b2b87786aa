import { fstatSync } from 'node:fs';

/**
 * True when stderr is the journal: systemd sets JOURNAL_STREAM to the
 * `device:inode` of the stream it connected, and it must be fd 2 itself (a
 * child whose stderr was redirected elsewhere inherits the variable too).
 */
export function isJournalStderr(env: NodeJS.ProcessEnv): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (match === null) return false;
  try {
    const stats = fstatSync(2, { bigint: true });
    return stats.dev === BigInt(match[1] as string) && stats.ino === BigInt(match[2] as string);
  } catch {
    return false;
  }
}

/** The syslog priority journald reads from a line's `<N>` prefix, by pino level: fatal 2, error 3, warn 4, info 6, debug and trace 7. */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

const LEVEL = /^\{"level":(\d+)/;

/** Where log lines are written: pino's destinations and any writable stream. */
export interface LineSink {
  write(line: string): unknown;
}

/** A destination that puts the syslog priority before each of secretvisor's JSON lines, for `journalctl -p`. */
export function withSyslogPriority(destination: LineSink): { write(line: string): void } {
  return {
    write(line: string): void {
      const level = Number(LEVEL.exec(line)?.[1] ?? 30);
      destination.write(`<${syslogPriority(level)}>${line}`);
    },
  };
}
