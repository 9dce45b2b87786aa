import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { baseEnv, startCli, type RunningCli } from '../helpers/cli.js';
import { parseJsonLines } from '../helpers/json-lines.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A child for file-output tests: on start and on every SIGHUP it appends one
 * JSON line to RECORD_FILE with its pid, uid, gid, the path in $FILE_VAR and
 * that file's content as it read it, and the values of RECORD_KEYS. It
 * prints "ready <pid>" (never a value), exits 0 on SIGTERM, or with EXIT_CODE at once.
 */
const FILE_CHILD = `
import { appendFileSync, readFileSync } from 'node:fs';
const pointer = process.env.FILE_VAR ? process.env[process.env.FILE_VAR] ?? null : null;
const keys = (process.env.RECORD_KEYS ?? '').split(',').filter(Boolean);
const record = (event) => {
  let content = null;
  if (pointer !== null) {
    try { content = readFileSync(pointer, 'utf8'); } catch (error) { content = 'unreadable: ' + error.code; }
  }
  const env = Object.fromEntries(keys.map((key) => [key, process.env[key] ?? null]));
  appendFileSync(process.env.RECORD_FILE, JSON.stringify({ event, pid: process.pid, uid: process.getuid(), gid: process.getgid(), pointer, content, env }) + '\\n');
};
process.on('SIGHUP', () => record('SIGHUP'));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => { record('stop'); process.exit(0); });
record('start');
if (process.env.EXIT_CODE) process.exit(Number(process.env.EXIT_CODE));
process.stdout.write('ready ' + process.pid + '\\n');
setInterval(() => {}, 1 << 30);
`;

/** One line the child wrote. */
export interface ChildRecord {
  readonly event: 'start' | 'SIGHUP' | 'stop';
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  readonly pointer: string | null;
  readonly content: string | null;
  readonly env: Readonly<Record<string, string | null>>;
}

/** A test folder: config, secret files, the runtime base, the child and its record. */
export interface FileWorkspace {
  readonly dir: string;
  readonly config: string;
  /** What secretvisor gets as XDG_RUNTIME_DIR: runtime folders are made here. */
  readonly base: string;
  readonly record: string;
  readonly child: readonly string[];
}

const running: { readonly cli: RunningCli; readonly ws: FileWorkspace }[] = [];

afterEach(async () => {
  for (const { cli, ws } of running.splice(0)) {
    if (!cli.hasExited) cli.kill('SIGKILL');
    // A child outlives a SIGKILLed secretvisor and would hold its output pipes open.
    for (const record of readRecords(ws)) if (isChildOf(record.pid, ws)) killGroup(record.pid);
    await cli.discard();
  }
});

// Only a process still running this workspace's child: a pid of a child that ended may belong to another process now.
function isChildOf(pid: number, ws: FileWorkspace): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(ws.dir);
  } catch {
    return false;
  }
}

/** SIGKILLs a process group, if it is still there. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Makes a workspace whose `secretvisor.yaml` is `yaml` (without `version:`); debounce 50ms unless the yaml sets onChange. */
export function fileWorkspace(yaml: string): FileWorkspace {
  const dir = tempDir('sv-files-');
  const base = join(dir, 'runtime');
  const config = join(dir, 'secretvisor.yaml');
  const onChange = yaml.includes('onChange:') ? '' : 'onChange:\n  debounce: 50ms\n  stopTimeout: 2s\n';
  writeFileSync(config, `version: 1\n${yaml}\n${onChange}`);
  const script = join(dir, 'file-child.mjs');
  writeFileSync(script, FILE_CHILD);
  const record = join(dir, 'record.jsonl');
  writeFileSync(record, '');
  mkdirSync(base, { mode: 0o700 });
  return { dir, config, base, record, child: [process.execPath, script] };
}

/** Writes a dotenv source file atomically (temp file, then rename), mode 0600, as editors and config tools do. */
export function writeDotenv(path: string, entries: Readonly<Record<string, string>>): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(
    temp,
    Object.entries(entries)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(''),
    { mode: 0o600 },
  );
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** Every record the child wrote so far. */
export function readRecords(ws: FileWorkspace): ChildRecord[] {
  return parseJsonLines<ChildRecord>(readFileSync(ws.record, 'utf8'));
}

/** The records of one kind. */
export function recordsOf(ws: FileWorkspace, event: ChildRecord['event']): ChildRecord[] {
  return readRecords(ws).filter((record) => record.event === event);
}

/** secretvisor's environment for a workspace: the runtime base, the child's record settings, JSON logs. */
export function workspaceEnv(ws: FileWorkspace, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return baseEnv({ XDG_RUNTIME_DIR: ws.base, RECORD_FILE: ws.record, SECRETVISOR_LOG_FORMAT: 'json', ...extra });
}

/** Starts `secretvisor run` on the workspace's config and child; killed after the test if still running. */
export function startRun(ws: FileWorkspace, options: { readonly env?: NodeJS.ProcessEnv; readonly args?: readonly string[] } = {}): RunningCli {
  const cli = startCli(['run', '-c', ws.config, ...(options.args ?? []), '--', ...ws.child], { cwd: ws.dir, env: options.env ?? workspaceEnv(ws) });
  running.push({ cli, ws });
  return cli;
}

/** Waits until the child has written `count` records of `event`. */
export async function waitForRecords(cli: RunningCli, ws: FileWorkspace, event: ChildRecord['event'], count: number): Promise<ChildRecord[]> {
  await cli.waitFor(() => recordsOf(ws, event).length >= count, `${count} "${event}" record(s) from the child`);
  return recordsOf(ws, event);
}

/** Names in the runtime base (runtime folders of runs still there). */
export function runtimeFolders(ws: FileWorkspace): string[] {
  return readdirSync(ws.base).filter((name) => name.startsWith('secretvisor.'));
}

/** How many log lines on stderr contain `text`. */
export function countLogLines(cli: RunningCli, text: string): number {
  return cli.stderr.split('\n').filter((line) => line.includes(text)).length;
}
