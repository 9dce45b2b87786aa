import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureAwsRequests } from './aws-requests.js';
import { measureHeldSockets } from './held-sockets.js';
import { measureHealthListener } from './health-listener.js';
import type { BenchRow } from './bench-row.js';
import { HAVE_GNU_TIME } from './measure-process.js';
import { formatTable, updateReadmeSection, type BenchSection } from './report.js';
import { measureResident } from './resident.js';
import { measureRotation } from './rotation.js';
import { measureFleet } from './fleet.js';
import { measurePeers } from './peers.js';
import { measureScale } from './scale.js';
import { measureStartup } from './startup.js';
import { CLI, ROOT } from './subjects.js';
import { measureVaultRequests } from './vault-requests.js';

/** How hard to measure: the full report, or BENCH_QUICK's shorter one. */
interface Effort {
  readonly quick: boolean;
  readonly startupRounds: number;
  readonly rssRounds: number;
  readonly idleSeconds: number;
  readonly rotations: number;
  readonly scaleStartRounds: number;
  readonly scaleRotations: number;
  readonly peerRounds: number;
  readonly fleetHosts: number;
}

/**
 * The fleet's startup.splay: a reboot within 60 s of 100,000 hosts × 10 secrets is 1,000,000 first reads
 * (GetSecretValue 10,000/s; BatchGetSecretValue, 20 secrets a call, is capped at 100 calls/s, so 2,000
 * secrets/s: no help); spread over 3 minutes they come at about 5,600/s.
 */
const FLEET_STARTUP_SPLAY_MS = 180_000;
const FULL: Effort = { quick: false, startupRounds: 21, rssRounds: 5, idleSeconds: 60, rotations: 20, scaleStartRounds: 5, scaleRotations: 10, peerRounds: 11, fleetHosts: 100_000 };
const QUICK: Effort = { quick: true, startupRounds: 11, rssRounds: 3, idleSeconds: 10, rotations: 10, scaleStartRounds: 3, scaleRotations: 5, peerRounds: 3, fleetHosts: 10_000 };

interface SectionSpec {
  readonly id: string;
  readonly title: string;
  readonly run: (effort: Effort, log: (line: string) => void) => Promise<BenchRow[]>;
}

/** Every part of the report, in order. Another measurement is one more entry. */
const SECTIONS: readonly SectionSpec[] = [
  {
    id: 'startup',
    title: 'Start-up and its memory',
    run: (effort, log) => measureStartup({ rounds: effort.startupRounds, rssRounds: effort.rssRounds, log }),
  },
  { id: 'resident', title: 'While the child runs: memory and idle CPU', run: (effort, log) => measureResident({ idleSeconds: effort.idleSeconds, log }) },
  {
    id: 'health',
    title: 'The health listener (`metrics:`): off, on, scraped',
    run: (effort, log) => measureHealthListener({ idleSeconds: effort.idleSeconds, startRounds: effort.startupRounds, log }),
  },
  { id: 'rotation', title: 'Rotation latency', run: (effort, log) => measureRotation({ rotations: effort.rotations, log }) },
  {
    id: 'scale',
    title: 'Scale: 10,000 secrets in 1,000 files',
    run: (effort, log) => measureScale({ startRounds: effort.scaleStartRounds, rotations: effort.scaleRotations, log }),
  },
  { id: 'held-sockets', title: 'Rotation under load: held sockets', run: (effort, log) => measureHeldSockets({ rotations: effort.rotations, log }) },
  { id: 'vault', title: 'Vault requests', run: () => measureVaultRequests() },
  { id: 'aws', title: 'AWS Secrets Manager requests', run: () => measureAwsRequests() },
  {
    id: 'peers',
    title: 'Head to head: secretvisor, OpenBao Agent and envconsul on one real OpenBao',
    run: (effort, log) => measurePeers({ startRounds: effort.peerRounds, rotations: effort.rotations, idleSeconds: effort.idleSeconds, log }),
  },
  {
    id: 'fleet',
    title: 'A fleet, simulated with the real refresh and retry schedules',
    run: async (effort, log) =>
      measureFleet({
        hosts: effort.fleetHosts,
        secretsPerHost: 10,
        refreshMs: 300_000,
        startupSplayMs: FLEET_STARTUP_SPLAY_MS,
        vaultBudgetPerSecond: Number(process.env.BENCH_VAULT_BUDGET ?? 10_000),
        log,
      }),
  },
];

const RESULTS = join(ROOT, 'bench', 'results');
const LATEST = join(RESULTS, 'latest.md');
const README = join(ROOT, 'README.md');
const ANALYSIS = join(ROOT, 'bench', 'analysis.md');

/**
 * `npm run bench`: measures every section, prints the report (Markdown) on
 * stdout and writes it to bench/results/latest.md; with --update-readme it
 * also rewrites the README's bench section. --readme-only rewrites that
 * section from the last results without measuring. Progress goes to stderr.
 */
export async function runBench(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { quick: { type: 'boolean' }, 'update-readme': { type: 'boolean' }, 'readme-only': { type: 'boolean' }, only: { type: 'string' } },
  });
  if (values['readme-only'] === true) {
    if (!existsSync(LATEST)) throw new Error(`no results yet: run \`npm run bench\` first (${LATEST})`);
    updateReadmeSection(README, readmeSection(readFileSync(LATEST, 'utf8')));
    process.stderr.write(`updated the bench section of ${README}\n`);
    return 0;
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const effort = values.quick === true || process.env.BENCH_QUICK === '1' ? QUICK : FULL;
  const only = values.only?.split(',').map((id) => id.trim());
  const unknown = only?.filter((id) => !SECTIONS.some((section) => section.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(', ')}; use ${SECTIONS.map((s) => s.id).join(', ')}`);
  if (only !== undefined && values['update-readme'] === true) throw new Error('--update-readme needs the whole report: drop --only');

  const started = Date.now();
  const environment = describeEnvironment(effort);
  const sections: BenchSection[] = [];
  for (const spec of SECTIONS) {
    if (only !== undefined && !only.includes(spec.id)) continue;
    const log = (line: string): void => void process.stderr.write(`[${spec.id}] ${line}\n`);
    log('measuring…');
    const sectionStart = Date.now();
    sections.push({ title: spec.title, rows: await spec.run(effort, log) });
    log(`done in ${((Date.now() - sectionStart) / 1000).toFixed(0)} s`);
  }
  const report = [`Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${((Date.now() - started) / 1000).toFixed(0)} s; ${environment}`, '', formatTable(sections)].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  // A partial run keeps its own file, so latest.md (and the README) always hold a whole report.
  writeFileSync(only === undefined ? LATEST : join(RESULTS, `only-${only.join('-')}.md`), report);
  process.stdout.write(report);
  if (values['update-readme'] === true) {
    updateReadmeSection(README, readmeSection(report));
    process.stderr.write(`updated the bench section of ${README}\n`);
  }
  return 0;
}

function describeEnvironment(effort: Effort): string {
  const cpu = cpus();
  const load = loadavg()[0]?.toFixed(2) ?? '?';
  return [
    `Node ${process.version}`,
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
    `load average ${load} at the start`,
    effort.quick ? 'BENCH_QUICK (fewer rounds, 10 s idle window)' : 'full run',
    HAVE_GNU_TIME ? undefined : 'no GNU time: start-up RSS not measured',
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}

/** The README's bench section: the latest report, then the summary kept in bench/analysis.md (the method and notes are docs/performance.md). */
function readmeSection(report: string): string {
  const analysis = existsSync(ANALYSIS) ? readFileSync(ANALYSIS, 'utf8').trim() : '';
  return ['`npm run bench` measures; `npm run bench -- --update-readme` also rewrites this section.', '', report.trim(), '', analysis].join('\n');
}
