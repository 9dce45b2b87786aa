import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRow } from './bench-row.js';
import { benchDir, makeDirectoryProject } from './fixtures.js';
import { LiveProcess, cpuMsOf, memoryOf, timeCommand } from './measure-process.js';
import { isWatching } from './resident.js';
import { formatMb, formatMs, formatRatio, median } from './stats.js';
import { TRUE, secretvisor } from './subjects.js';
import { freePort } from '../test/helpers/processes.js';

/** Options of {@link measureHealthListener}. */
export interface HealthListenerOptions {
  readonly idleSeconds: number;
  readonly startRounds: number;
  readonly log: (line: string) => void;
}

const SECRETS = 50;
const SLEEP = ['/bin/sh', '-c', 'exec sleep 3600'];
// As in the resident section: V8's memory reducer settles about 8 s after a start.
const SETTLE_MS = 10_000;
// Prometheus scrapes every 15 s by default; once a second is a heavy scraper.
const SCRAPE_EVERY_MS = 1_000;
const IDLE_TARGET_PERCENT = 0.5;

/**
 * What the health listener costs. Off (no `metrics:`) it is not loaded at
 * all, so `run --once` start-up and a resident supervisor are compared
 * without and with it; on, idle CPU and peak RSS are measured with no
 * scraper and with a scrape of /metrics every second, all over one window.
 */
export async function measureHealthListener(options: HealthListenerOptions): Promise<BenchRow[]> {
  const workspace = benchDir('health');
  const processes: LiveProcess[] = [];
  try {
    const off = makeDirectoryProject(join(workspace.dir, 'off'), SECRETS);
    const [idlePort, scrapedPort, oncePort] = await Promise.all([freePort(), freePort(), freePort()]);
    const on = (name: string, port: number): string => {
      const dir = makeDirectoryProject(join(workspace.dir, name), SECRETS);
      const config = join(dir, 'secretvisor.yaml');
      writeFileSync(config, `${readFileSync(config, 'utf8')}metrics: { listen: "127.0.0.1:${port}" }\n`);
      return dir;
    };
    const idleDir = on('on-idle', idlePort);
    const scrapedDir = on('on-scraped', scrapedPort);
    const onceDir = on('on-once', oncePort);

    const startOff: number[] = [];
    const startOn: number[] = [];
    for (let round = 0; round < options.startRounds; round++) {
      startOff.push(await timeCommand(secretvisor(off, ['run', '--once', '--', TRUE])));
      startOn.push(await timeCommand(secretvisor(onceDir, ['run', '--once', '--', TRUE])));
    }
    options.log(`run --once: off ${formatMs(median(startOff))}, on ${formatMs(median(startOn))}`);

    const start = (dir: string): LiveProcess => {
      const live = new LiveProcess(secretvisor(dir, ['run', '--', ...SLEEP]));
      processes.push(live);
      return live;
    };
    const subjects = { off: start(off), idle: start(idleDir), scraped: start(scrapedDir) };
    for (const [name, live] of Object.entries(subjects)) await live.waitForLine(isWatching, `secretvisor (${name}) to watch`);
    await sleep(SETTLE_MS);

    const before = { off: cpuMsOf(subjects.off.pid), idle: cpuMsOf(subjects.idle.pid), scraped: cpuMsOf(subjects.scraped.pid) };
    const windowStart = performance.now();
    const scrapeMs: number[] = [];
    let metricsBytes = 0;
    while (performance.now() - windowStart < options.idleSeconds * 1_000) {
      const sent = performance.now();
      const body = await (await fetch(`http://127.0.0.1:${scrapedPort}/metrics`)).text();
      scrapeMs.push(performance.now() - sent);
      metricsBytes = body.length;
      await sleep(SCRAPE_EVERY_MS);
    }
    const seconds = (performance.now() - windowStart) / 1_000;
    const percent = (name: keyof typeof subjects): number => ((cpuMsOf(subjects[name].pid) - before[name]) / 1_000 / seconds) * 100;
    const cpu = { off: percent('off'), idle: percent('idle'), scraped: percent('scraped') };
    const rss = { off: memoryOf(subjects.off.pid).peakKb, idle: memoryOf(subjects.idle.pid).peakKb, scraped: memoryOf(subjects.scraped.pid).peakKb };
    options.log(
      `idle CPU: off ${cpu.off.toFixed(3)} %, on ${cpu.idle.toFixed(3)} %, scraped ${cpu.scraped.toFixed(3)} %; peak RSS: off ${formatMb(rss.off)}, on ${formatMb(rss.idle)}, scraped ${formatMb(rss.scraped)}`,
    );

    const window = `${Math.round(seconds)} s`;
    const offCpu = `\`metrics:\` off ${cpu.off.toFixed(3)} %`;
    return [
      {
        figure: `\`run --once\` with ${SECRETS} file secrets, \`metrics:\` on (median of ${options.startRounds})`,
        value: formatMs(median(startOn)),
        baseline: `off ${formatMs(median(startOff))}`,
        ratio: formatRatio(median(startOn), median(startOff)),
        target: '—',
        met: undefined,
      },
      {
        figure: 'Peak RSS while the child runs, `metrics:` on, not scraped',
        value: formatMb(rss.idle),
        baseline: `off ${formatMb(rss.off)}`,
        ratio: formatRatio(rss.idle, rss.off),
        target: '—',
        met: undefined,
      },
      {
        figure: `Peak RSS, \`metrics:\` on, /metrics scraped every ${SCRAPE_EVERY_MS / 1_000} s`,
        value: formatMb(rss.scraped),
        baseline: `off ${formatMb(rss.off)}`,
        ratio: formatRatio(rss.scraped, rss.off),
        target: '—',
        met: undefined,
      },
      {
        figure: `Idle CPU over ${window}, \`metrics:\` on, not scraped`,
        value: `${cpu.idle.toFixed(3)} % of a core`,
        baseline: offCpu,
        ratio: formatRatio(cpu.idle, cpu.off),
        target: `< ${IDLE_TARGET_PERCENT} %`,
        met: cpu.idle < IDLE_TARGET_PERCENT,
      },
      {
        figure: `CPU over ${window}, \`metrics:\` on, /metrics (${(metricsBytes / 1024).toFixed(1)} KiB) scraped every ${SCRAPE_EVERY_MS / 1_000} s`,
        value: `${cpu.scraped.toFixed(3)} % of a core`,
        baseline: offCpu,
        ratio: formatRatio(cpu.scraped, cpu.off),
        // Fifteen times Prometheus' default rate: the figure to scale, not a target.
        target: '—',
        met: undefined,
      },
      {
        figure: 'One scrape of /metrics: wall time (median), and CPU of secretvisor per scrape',
        value: `${formatMs(median(scrapeMs))}, ${formatMs((((cpu.scraped - cpu.idle) / 100) * seconds * 1_000) / scrapeMs.length)} CPU`,
        baseline: '—',
        ratio: '—',
        target: '—',
        met: undefined,
      },
    ];
  } finally {
    await Promise.all(processes.map((live) => live.stop()));
    workspace.cleanup();
  }
}
