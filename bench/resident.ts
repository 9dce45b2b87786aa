import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchRow } from './bench-row.js';
import { benchDir, makeDirectoryProject, makeDotenvProject } from './fixtures.js';
import { LiveProcess, childrenOf, cpuMsOf, memoryOf } from './measure-process.js';
import { FULL_SCALE, makeScaleProject } from './scale-fixture.js';
import { formatMb, formatRatio } from './stats.js';
import { baseEnv, dotenvCli, secretvisor } from './subjects.js';

/** Options of {@link measureResident}. */
export interface ResidentOptions {
  /** How long to watch the idle processes. */
  readonly idleSeconds: number;
  readonly log: (line: string) => void;
}

const SECRETS = 50;
const RSS_TARGET = 1.25;
const IDLE_TARGET_PERCENT = 0.5;
const SLEEP = ['/bin/sh', '-c', 'exec sleep 3600'];
const SETTLE_MS = 10_000;

/** The log line secretvisor writes once every watcher is armed. */
export const isWatching = (line: string): boolean => line.includes('watching sources for changes');

/**
 * Memory and idle CPU of long-running processes, side by side over the same
 * window: secretvisor watching 50 file secrets, secretvisor watching the
 * 10,000-secret estate, dotenv-cli waiting on its child, and an idle node.
 * RSS is the kernel's VmHWM (peak) of each process itself, children not
 * included, read at the end of the window; CPU is utime + stime from
 * /proc/PID/stat over the window, which starts 10 s after all are ready.
 */
export async function measureResident(options: ResidentOptions): Promise<BenchRow[]> {
  const workspace = benchDir('resident');
  const processes: LiveProcess[] = [];
  try {
    const { dir } = workspace;
    const filesProject = makeDirectoryProject(`${dir}/files`, SECRETS);
    const dotenvProject = makeDotenvProject(`${dir}/dotenv`, SECRETS);
    const scale = makeScaleProject(`${dir}/scale`, FULL_SCALE);
    const start = (spec: ConstructorParameters<typeof LiveProcess>[0]): LiveProcess => {
      const live = new LiveProcess(spec);
      processes.push(live);
      return live;
    };
    const files = start(secretvisor(filesProject, ['run', '--', ...SLEEP]));
    const atScale = start(secretvisor(scale.dir, ['run', ...scale.identity, '--', ...SLEEP]));
    const dotenv = start(dotenvCli(dotenvProject, SLEEP));
    const node = start({ argv: [process.execPath, '-e', 'setInterval(() => {}, 1 << 30)'], cwd: dir, env: baseEnv() });
    await files.waitForLine(isWatching, 'secretvisor (50 files) to watch');
    await atScale.waitForLine(isWatching, `secretvisor (${scale.files} files) to watch`, { timeoutMs: 120_000 });
    while (childrenOf(dotenv.pid).length === 0) await sleep(20);
    // V8's memory reducer runs a few full GCs about 8 s after a start; the window measures the steady state after it.
    await sleep(SETTLE_MS);

    const subjects = { files, atScale, dotenv, node };
    const cpuBefore = mapValues(subjects, (live) => cpuMsOf(live.pid));
    const windowStart = performance.now();
    options.log(`idle window: ${options.idleSeconds} s`);
    await sleep(options.idleSeconds * 1_000);
    const seconds = (performance.now() - windowStart) / 1_000;
    const percent = mapValues(subjects, (live, name) => ((cpuMsOf(live.pid) - cpuBefore[name]) / 1_000 / seconds) * 100);
    const memory = mapValues(subjects, (live) => memoryOf(live.pid));
    options.log(
      `peak RSS: ${Object.entries(memory)
        .map(([name, m]) => `${name} ${formatMb(m.peakKb)}`)
        .join(', ')}; idle CPU: ${Object.entries(percent)
        .map(([name, p]) => `${name} ${p.toFixed(3)} %`)
        .join(', ')}`,
    );

    const rssRow = (figure: string, kb: number, against: 'node' | 'dotenv'): BenchRow => {
      const base = memory[against].peakKb;
      return {
        figure,
        value: formatMb(kb),
        baseline: against === 'node' ? `idle \`node\` ${formatMb(base)}` : `\`dotenv -- sleep\` ${formatMb(base)}`,
        ratio: formatRatio(kb, base),
        target: against === 'node' ? `≤ ${RSS_TARGET}×` : '—',
        met: against === 'node' ? kb / base <= RSS_TARGET : undefined,
      };
    };
    const idleRow = (figure: string, value: number): BenchRow => ({
      figure,
      value: `${value.toFixed(3)} % of a core`,
      baseline: `idle \`node\` ${percent.node.toFixed(3)} %`,
      ratio: formatRatio(value, percent.node),
      target: `< ${IDLE_TARGET_PERCENT} %`,
      met: value < IDLE_TARGET_PERCENT,
    });
    const window = `${Math.round(seconds)} s`;
    return [
      rssRow(`Peak RSS while the child runs, watching ${SECRETS} file secrets`, memory.files.peakKb, 'node'),
      rssRow(`Peak RSS while the child runs, watching ${SECRETS} file secrets`, memory.files.peakKb, 'dotenv'),
      rssRow(`Peak RSS while the child runs, watching ${scale.secrets.toLocaleString('en-US')} secrets in ${scale.files.toLocaleString('en-US')} files`, memory.atScale.peakKb, 'node'),
      idleRow(`Idle CPU over ${window}, watching ${SECRETS} file secrets`, percent.files),
      idleRow(`Idle CPU over ${window}, watching ${scale.files.toLocaleString('en-US')} files`, percent.atScale),
    ];
  } finally {
    await Promise.all(processes.map((live) => live.stop()));
    workspace.cleanup();
  }
}

function mapValues<T extends Record<string, unknown>, R>(record: T, map: (value: T[keyof T], key: keyof T) => R): { [K in keyof T]: R } {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value as T[keyof T], key as keyof T)])) as { [K in keyof T]: R };
}
