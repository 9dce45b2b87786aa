import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as pace } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { parseJsonLines } from '../helpers/json-lines.js';
import { randomSecret } from '../helpers/secrets.js';
import { fileWorkspace, killGroup, readRecords, workspaceEnv, writeDotenv, type ChildRecord } from './file-outputs-workspace.js';

// A bounded soak: for SOAK_SECONDS (60 by default) a file-only secret is
// rotated every 100 ms (each write rewrites a file output and SIGHUPs the
// child), an env secret every second (each write restarts the child), and
// secretvisor gets a SIGHUP to forward every half second. Its open file
// descriptors, resident memory, live timers and heap must stay flat, and the
// child must end up with exactly the last values written.

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const TICK_MS = 100;
const PRELOAD = fileURLToPath(new URL('../fixtures/report-resources.cjs', import.meta.url));

const CONFIG = `sources:
  app: { type: dotenv, path: app.env }
  keys: { type: dotenv, path: keys.env, asEnv: false }
files:
  - path: api-key
    template: "{{secret.API_KEY}}"
    env: API_KEY_PATH
onChange:
  debounce: 50ms
  stopTimeout: 2s`;

interface Sample {
  readonly fds: number;
  readonly rssKiB: number;
}

interface Report {
  readonly at: number;
  readonly timers: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly heapUsed: number;
}

function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssKiB: Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) };
}

function quarters<T>(values: readonly T[]): { first: T[]; last: T[] } {
  const size = Math.max(1, Math.floor(values.length / 4));
  return { first: values.slice(0, size), last: values.slice(-size) };
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const max = (values: readonly number[]): number => Math.max(...values);
const min = (values: readonly number[]): number => Math.min(...values);

/** Watchers, pipes, signal handlers and processes alive in a report. */
function handleCount(report: Report): number {
  // FILEHANDLE resources end when the garbage collector gets to them, not when closed: open files are counted in /proc instead.
  return Object.entries(report.byType)
    .filter(([type]) => type !== 'Timeout' && type !== 'Immediate' && type !== 'FILEHANDLE')
    .reduce((sum, [, count]) => sum + count, 0);
}

/** The records of the child running now: the last start and what it recorded since. */
function currentChild(records: readonly ChildRecord[]): ChildRecord[] {
  const start = records.findLastIndex((record) => record.event === 'start');
  return start === -1 ? [] : records.slice(start).filter((record) => record.pid === records[start]?.pid);
}

describe('soak', () => {
  it(`rotates for ${SOAK_SECONDS}s with fds, memory and timers flat, and ends on the last write`, { timeout: (SOAK_SECONDS + 90) * 1_000 }, async () => {
    const ws = fileWorkspace(CONFIG);
    const report = join(ws.dir, 'resources.jsonl');
    let token = randomSecret('token');
    let apiKey = randomSecret('api-key');
    writeDotenv(join(ws.dir, 'app.env'), { TOKEN: token });
    writeDotenv(join(ws.dir, 'keys.env'), { API_KEY: apiKey });
    const env = workspaceEnv(ws, { FILE_VAR: 'API_KEY_PATH', RECORD_KEYS: 'TOKEN', SV_RESOURCE_REPORT: report });
    const cli = new RunningCli(spawn(process.execPath, ['--expose-gc', '--require', PRELOAD, CLI, 'run', '-c', ws.config, '--', ...ws.child], { cwd: ws.dir, env }));
    try {
      await cli.waitForStderr('watching sources for changes');
      const samples: Sample[] = [];
      const end = Date.now() + SOAK_SECONDS * 1_000;
      for (let tick = 1; Date.now() < end; tick++) {
        if (cli.hasExited) {
          throw new Error(`secretvisor exited during the soak (code ${cli.process.exitCode}); its last log lines:\n${logText(cli.stderr).slice(-3_000)}`);
        }
        apiKey = randomSecret('api-key');
        writeDotenv(join(ws.dir, 'keys.env'), { API_KEY: apiKey });
        if (tick % 10 === 0) {
          token = randomSecret('token');
          writeDotenv(join(ws.dir, 'app.env'), { TOKEN: token });
        }
        if (tick % 5 === 0) cli.kill('SIGHUP');
        if (tick % 10 === 5) samples.push(sample(cli.pid));
        await pace(TICK_MS);
      }

      // The last writes reach the child: its environment has the last token, its file the last key.
      await cli.waitFor(
        () => currentChild(readRecords(ws)).some((record) => record.env.TOKEN === token && record.content === apiKey),
        'the child to run with the last token and read the last key',
        30_000,
      );
      const pointer = currentChild(readRecords(ws))[0]?.pointer as string;
      expect(readFileSync(pointer, 'utf8')).toBe(apiKey);

      const records = readRecords(ws);
      const starts = records.filter((record) => record.event === 'start').length;
      const hups = records.filter((record) => record.event === 'SIGHUP').length;
      const reports = parseJsonLines<Report>(readFileSync(report, 'utf8'));
      const fds = quarters(samples.map((s) => s.fds));
      const rss = quarters(samples.map((s) => s.rssKiB));
      const timers = quarters(reports.map((r) => r.timers));
      const heap = quarters(reports.map((r) => r.heapUsed / 1024));
      const handles = quarters(reports.map((r) => handleCount(r)));
      console.log(
        JSON.stringify({
          seconds: SOAK_SECONDS,
          starts,
          hups,
          samples: samples.length,
          fds: { first: min(fds.first), last: min(fds.last), peak: max(samples.map((s) => s.fds)) },
          rssKiB: { first: median(rss.first), last: median(rss.last), peak: max(samples.map((s) => s.rssKiB)) },
          heapAfterGcKiB: { first: median(heap.first), last: median(heap.last) },
          timers: { first: min(timers.first), last: min(timers.last), peak: max(reports.map((r) => r.timers)) },
          handles: { first: min(handles.first), last: min(handles.last), peak: max(reports.map((r) => handleCount(r))) },
          lastReport: reports.at(-1)?.byType,
        }),
      );

      // The churn happened: about one restart a second and many signals.
      expect(starts).toBeGreaterThanOrEqual(SOAK_SECONDS / 3);
      expect(hups).toBeGreaterThanOrEqual(SOAK_SECONDS);
      // Counts rise and fall with the phase of a restart (a stop's timeout kept until it fires, the debounce, a file
      // being read or written when sampled): what a leak lifts is the floor they fall back to, rotation after rotation.
      expect(min(fds.last)).toBeLessThanOrEqual(min(fds.first) + 2);
      expect(min(timers.last)).toBeLessThanOrEqual(min(timers.first) + 2);
      expect(min(handles.last)).toBeLessThanOrEqual(min(handles.first) + 2);
      // The heap right after a full GC is what is really kept. It settles by a few hundred KiB as V8 compiles
      // more code (a heap snapshot diff shows only code objects); 1 MiB more would mean kilobytes kept per rotation.
      expect(median(heap.last)).toBeLessThanOrEqual(median(heap.first) + 1024);
      // RSS also holds garbage between collections and pages the allocator keeps: 25% or 16 MiB of slack, far below the growth a leak of one plan or watcher per rotation would show over ~600 rotations.
      expect(median(rss.last)).toBeLessThanOrEqual(Math.max(median(rss.first) * 1.25, median(rss.first) + 16 * 1024));
    } finally {
      cli.kill('SIGTERM');
      await cli.exited();
      for (const record of readRecords(ws)) if (existsSync(`/proc/${record.pid}`) && record.event === 'start') killGroup(record.pid);
    }
    // Outside `finally`, so that it cannot hide why the soak itself failed.
    expect((await cli.exited()).code).toBe(0);
  });
});
