import { spawn } from 'node:child_process';
import type { BenchRow } from './bench-row.js';
import { benchDir, makeDirectoryProject, randomValue } from './fixtures.js';
import { LiveProcess, peakRssKb, timeCommand } from './measure-process.js';
import { isWatching } from './resident.js';
import { DEBOUNCE_MS, announcingChild, timeRotations } from './rotation.js';
import { FULL_SCALE, SMALL_SCALE, makeScaleProject, type ScaleProject } from './scale-fixture.js';
import { formatMb, formatMs, formatRatio, median, percentile } from './stats.js';
import { TRUE, secretvisor } from './subjects.js';

/** Options of {@link measureScale}. */
export interface ScaleOptions {
  readonly startRounds: number;
  readonly rotations: number;
  readonly log: (line: string) => void;
}

const START_TARGET_MS = 1_000;
const APPLY_TARGET_MS = 50;

/**
 * The estate — 10,000 secrets in 1,000 files across 50 pools — against
 * 50 file secrets for start-up, and against 10 files for applying one
 * changed file (which must not grow with the files that did not change).
 */
export async function measureScale(options: ScaleOptions): Promise<BenchRow[]> {
  const workspace = benchDir('scale');
  const processes: LiveProcess[] = [];
  try {
    const { dir } = workspace;
    const onChange = `onChange:\n  debounce: ${DEBOUNCE_MS}ms\n`;
    const full = makeScaleProject(`${dir}/full`, FULL_SCALE, onChange);
    const small = makeScaleProject(`${dir}/small`, SMALL_SCALE, onChange);
    const files50 = makeDirectoryProject(`${dir}/files50`, 50);

    const once = (project: string, identity: readonly string[] = []) => secretvisor(project, ['run', '--once', ...identity, '--', TRUE]);
    const fullTimes: number[] = [];
    const baseTimes: number[] = [];
    for (let round = 0; round <= options.startRounds; round++) {
      const fullMs = await timeCommand(once(full.dir, full.identity));
      const baseMs = await timeCommand(once(files50));
      if (round > 0) {
        fullTimes.push(fullMs);
        baseTimes.push(baseMs);
      }
    }
    const fullRssSamples: number[] = [];
    const baseRssSamples: number[] = [];
    for (let round = 0; round < 3; round++) {
      const fullKb = await peakRssKb(once(full.dir, full.identity));
      const baseKb = await peakRssKb(once(files50));
      if (fullKb !== undefined) fullRssSamples.push(fullKb);
      if (baseKb !== undefined) baseRssSamples.push(baseKb);
    }
    const fullRss = fullRssSamples.length === 0 ? undefined : median(fullRssSamples);
    const baseRss = baseRssSamples.length === 0 ? undefined : median(baseRssSamples);
    options.log(`scale start-up: ${formatMs(median(fullTimes))} (50 secrets: ${formatMs(median(baseTimes))}); peak RSS ${formatMb(fullRss)} (${formatMb(baseRss)})`);

    const apply = async (project: ScaleProject): Promise<{ latencies: number[]; watchMs: number }> => {
      const started = performance.now();
      const cli = new LiveProcess(secretvisor(project.dir, ['run', ...project.identity, '--', ...announcingChild(project.watchedKey)]));
      processes.push(cli);
      const watching = await cli.waitForLine(isWatching, `secretvisor (${project.files} files) to watch`, { timeoutMs: 120_000 });
      const latencies = await timeRotations(cli, options.rotations, () => project.rotate());
      await cli.stop();
      return { latencies, watchMs: watching - started };
    };
    const fullApply = await apply(full);
    const smallApply = await apply(small);
    options.log(
      `apply one changed file: ${full.files} files median ${formatMs(median(fullApply.latencies))}, ${small.files} files median ${formatMs(median(smallApply.latencies))}; watching armed after ${formatMs(fullApply.watchMs)}`,
    );

    const fullSpawn = await spawnWithEnvMs(full.secrets);
    const smallSpawn = await spawnWithEnvMs(small.secrets);
    options.log(`node child_process.spawn of /bin/sh with ${full.secrets} env vars: ${formatMs(fullSpawn)} (${small.secrets}: ${formatMs(smallSpawn)})`);

    const estate = `${full.secrets.toLocaleString('en-US')} secrets in ${full.files.toLocaleString('en-US')} files, ${FULL_SCALE.pools} pools`;
    const applyFull = median(fullApply.latencies) - DEBOUNCE_MS;
    const applySmall = median(smallApply.latencies) - DEBOUNCE_MS;
    return [
      {
        figure: `Start-up, \`run --once\`, ${estate}`,
        value: formatMs(median(fullTimes)),
        baseline: `50 file secrets ${formatMs(median(baseTimes))}`,
        ratio: formatRatio(median(fullTimes), median(baseTimes)),
        target: `< ${START_TARGET_MS} ms`,
        met: median(fullTimes) < START_TARGET_MS,
      },
      {
        figure: `Peak RSS of that start-up`,
        value: formatMb(fullRss),
        baseline: `50 file secrets ${formatMb(baseRss)}`,
        ratio: fullRss === undefined || baseRss === undefined ? '—' : formatRatio(fullRss, baseRss),
        target: '—',
        met: undefined,
      },
      {
        figure: `Start-up in watch mode until every watcher is armed, ${estate}`,
        value: formatMs(fullApply.watchMs),
        baseline: `${small.files} files ${formatMs(smallApply.watchMs)}`,
        ratio: formatRatio(fullApply.watchMs, smallApply.watchMs),
        target: '—',
        met: undefined,
      },
      {
        figure: `Apply one changed file (rename → new child running), minus the ${DEBOUNCE_MS} ms debounce, ${full.files.toLocaleString('en-US')} files (median; p95 ${formatMs(percentile(fullApply.latencies, 95) - DEBOUNCE_MS)})`,
        value: formatMs(applyFull),
        baseline: `${small.files} files ${formatMs(applySmall)} (p95 ${formatMs(percentile(smallApply.latencies, 95) - DEBOUNCE_MS)})`,
        ratio: formatRatio(applyFull, applySmall),
        target: `< ${APPLY_TARGET_MS} ms, not growing with unchanged files`,
        met: applyFull < APPLY_TARGET_MS,
      },
      {
        figure: `Floor of that: Node's \`child_process.spawn\` of the same shell with ${full.secrets.toLocaleString('en-US')} env vars, to its exit`,
        value: formatMs(fullSpawn),
        baseline: `${small.secrets} env vars ${formatMs(smallSpawn)}`,
        ratio: formatRatio(fullSpawn, smallSpawn),
        target: '—',
        met: undefined,
      },
    ];
  } finally {
    await Promise.all(processes.map((live) => live.stop()));
    workspace.cleanup();
  }
}

/** Median time for this Node process to spawn `/bin/sh -c :` with `count` random env vars and see it exit. */
async function spawnWithEnvMs(count: number): Promise<number> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (let index = 0; index < count; index++) env[`BENCH_VAR_${index}`] = randomValue();
  const samples: number[] = [];
  for (let round = 0; round < 11; round++) {
    const started = performance.now();
    await new Promise((resolve, reject) => spawn('/bin/sh', ['-c', ':'], { env, stdio: 'ignore' }).once('exit', resolve).once('error', reject));
    samples.push(performance.now() - started);
  }
  return median(samples);
}
