import { pollUntil } from '../../helpers/poll-until.js';
import type { Machine } from './machine.js';

/** Some `systemctl show` properties of a unit, by name. */
export async function show(machine: Machine, unit: string, properties: readonly string[]): Promise<Record<string, string>> {
  const out = await machine.ok(['systemctl', 'show', ...properties.flatMap((property) => ['-p', property]), unit]);
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** The unit's main PID (secretvisor), or 0 when it has none. */
export async function mainPid(machine: Machine, unit: string): Promise<number> {
  return Number((await show(machine, unit, ['MainPID'])).MainPID);
}

/** The service secretvisor runs for the unit: its child whose command line names /opt/noxus/bin/, if any. */
export async function serviceChild(machine: Machine, main: number): Promise<number | undefined> {
  const children = await machine.run(['cat', `/proc/${main}/task/${main}/children`]);
  for (const pid of children.stdout.split(/\s+/).filter(Boolean)) {
    const cmdline = await machine.run(['cat', `/proc/${pid}/cmdline`]);
    if (cmdline.stdout.includes('/opt/noxus/bin/')) return Number(pid);
  }
  return undefined;
}

/** A process's environment as root sees it in the machine. */
export async function environOf(machine: Machine, pid: number): Promise<Map<string, string>> {
  const text = await machine.ok(['cat', `/proc/${pid}/environ`]);
  return new Map(
    text
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as [string, string]),
  );
}

/** The real uid and gid of a process in the machine. */
export async function idsOf(machine: Machine, pid: number): Promise<{ uid: number; gid: number }> {
  const status = await machine.ok(['cat', `/proc/${pid}/status`]);
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]) };
}

/** Whether a pid is a live (not zombie) process in the machine. */
export async function aliveIn(machine: Machine, pid: number): Promise<boolean> {
  const stat = await machine.run(['cat', `/proc/${pid}/stat`]);
  if (stat.code !== 0) return false;
  const state = stat.stdout.slice(stat.stdout.lastIndexOf(')') + 2, stat.stdout.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** One journal entry: its text and syslog priority (0 emerg … 7 debug). */
export interface JournalEntry {
  readonly message: string;
  readonly priority: number;
  readonly invocation: string | undefined;
}

/** The journal of a unit (`journalctl -u`), or with extra match arguments. */
export async function journal(machine: Machine, args: readonly string[]): Promise<JournalEntry[]> {
  const out = await machine.ok(['journalctl', '--no-pager', '-o', 'json', ...args]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { MESSAGE?: string | number[]; PRIORITY?: string; _SYSTEMD_INVOCATION_ID?: string })
    .map((entry) => ({
      message: typeof entry.MESSAGE === 'string' ? entry.MESSAGE : Buffer.from(entry.MESSAGE ?? []).toString('utf8'),
      priority: Number(entry.PRIORITY),
      invocation: entry._SYSTEMD_INVOCATION_ID,
    }));
}

/** {@link pollUntil} at the pace of commands run in the machine (every 200 ms). */
export function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs: number, detail?: () => Promise<string>): Promise<T> {
  return pollUntil(probe, what, { timeoutMs, intervalMs: 200, detail });
}
