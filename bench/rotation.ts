import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchRow } from './bench-row.js';
import { KubernetesVolume, benchDir, randomValue, writeSecret } from './fixtures.js';
import { LiveProcess } from './measure-process.js';
import { isWatching } from './resident.js';
import { formatMs, median, percentile } from './stats.js';
import { secretvisor } from './subjects.js';

/** Options of {@link measureRotation}. */
export interface RotationOptions {
  readonly rotations: number;
  readonly log: (line: string) => void;
}

export const DEBOUNCE_MS = 100;
/** Time for late events of one rotation to pass before the next one starts. */
const QUIET_MS = 250;
const KEYS = 10;

/**
 * The child of every latency figure: a shell that prints the value it was
 * started with, then sleeps. Its own start costs about a millisecond, so the
 * figure is secretvisor's: event, debounce, re-read, validate, stop the old
 * child, start the new one.
 */
export function announcingChild(key: string): string[] {
  return ['/bin/sh', '-c', `printf 'ready %s\\n' "$${key}"; exec sleep 3600`];
}

/** Runs `rotate` `count` times (after one warm-up), each time waiting for the child to announce the new value; returns the latencies in ms. */
export async function timeRotations(cli: LiveProcess, count: number, rotate: () => { value: string; at: number }): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index <= count; index++) {
    const from = cli.lines.length;
    const { value, at } = rotate();
    const seen = await cli.waitForLine((line) => line === `ready ${value}`, `the child to start with rotation ${index}'s value`, { from, timeoutMs: 15_000 });
    if (index > 0) latencies.push(seen - at);
    await sleep(QUIET_MS);
  }
  return latencies;
}

/**
 * Rotation latency, file event to new child running with the new value, with
 * `debounce: 100ms`, for the two ways secret files really change: a file
 * replaced by rename (editors, config management, `mv`), and a Kubernetes
 * Secret volume's atomic `..data` symlink swap.
 */
export async function measureRotation(options: RotationOptions): Promise<BenchRow[]> {
  const workspace = benchDir('rotation');
  const processes: LiveProcess[] = [];
  try {
    const { dir } = workspace;
    const onChange = `onChange:\n  debounce: ${DEBOUNCE_MS}ms\n`;

    // A folder of files, one replaced by rename from a staging folder next to it.
    const secrets = join(dir, 'rename', 'secrets');
    const staging = join(dir, 'rename', 'staging');
    for (const folder of [secrets, staging]) mkdirSync(folder, { recursive: true, mode: 0o700 });
    for (let index = 1; index <= KEYS; index++) writeSecret(join(secrets, `SECRET_${index}`), `${randomValue()}\n`);
    writeSecret(join(dir, 'rename', 'secretvisor.yaml'), `version: 1\nsources:\n  files:\n    type: directory\n    path: ./secrets\n${onChange}`);
    const renameCli = new LiveProcess(secretvisor(join(dir, 'rename'), ['run', '--', ...announcingChild('SECRET_1')]));
    processes.push(renameCli);
    await renameCli.waitForLine(isWatching, 'secretvisor to watch the folder');
    const renamed = await timeRotations(renameCli, options.rotations, () => {
      const value = randomValue();
      writeSecret(join(staging, 'SECRET_1'), `${value}\n`);
      const at = performance.now();
      renameSync(join(staging, 'SECRET_1'), join(secrets, 'SECRET_1'));
      return { value, at };
    });
    options.log(`rename: median ${formatMs(median(renamed))}, p95 ${formatMs(percentile(renamed, 95))}`);

    // A Kubernetes Secret volume.
    const values = (): Record<string, string> => Object.fromEntries(Array.from({ length: KEYS }, (_, index) => [`SECRET_${index + 1}`, randomValue()]));
    const volume = new KubernetesVolume(join(dir, 'k8s', 'secret-volume'), values());
    writeSecret(join(dir, 'k8s', 'secretvisor.yaml'), `version: 1\nsources:\n  mount:\n    type: directory\n    path: ./secret-volume\n${onChange}`);
    const k8sCli = new LiveProcess(secretvisor(join(dir, 'k8s'), ['run', '--', ...announcingChild('SECRET_1')]));
    processes.push(k8sCli);
    await k8sCli.waitForLine(isWatching, 'secretvisor to watch the volume');
    const swapped = await timeRotations(k8sCli, options.rotations, () => {
      const next = values();
      return { value: next.SECRET_1 as string, at: volume.swap(next) };
    });
    options.log(`..data swap: median ${formatMs(median(swapped))}, p95 ${formatMs(percentile(swapped, 95))}`);

    const target = DEBOUNCE_MS + 100;
    const row = (figure: string, samples: number[]): BenchRow => ({
      figure,
      value: `median ${formatMs(median(samples))}, p95 ${formatMs(percentile(samples, 95))}`,
      baseline: `debounce ${DEBOUNCE_MS} ms`,
      ratio: `p95 − debounce = ${formatMs(percentile(samples, 95) - DEBOUNCE_MS)}`,
      target: `p95 ≤ ${target} ms`,
      met: percentile(samples, 95) <= target,
    });
    return [
      row(`Rotation latency, file replaced by rename → new child running with it (${options.rotations} rotations)`, renamed),
      row(`Rotation latency, Kubernetes \`..data\` symlink swap → new child running with it (${options.rotations} rotations)`, swapped),
    ];
  } finally {
    await Promise.all(processes.map((live) => live.stop()));
    workspace.cleanup();
  }
}
