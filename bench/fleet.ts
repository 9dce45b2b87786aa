import { REMOTE_BACKOFF, STARTUP_BACKOFF, backoffDelay, jitter } from '../src/watch/backoff.js';
import { refreshDelay } from '../src/sources/refresh-timer.js';
import { seededRandom } from '../test/helpers/seeded-random.js';
import type { BenchRow } from './bench-row.js';
import { percentile } from './stats.js';

/**
 * A fleet of secretvisors, simulated on a virtual clock with the product's
 * own schedules: the refresh policy (src/sources/refresh-timer.ts), the start-up retries
 * (STARTUP_BACKOFF) and the retries while running (REMOTE_BACKOFF), each
 * with its jitter. What is modelled besides them, each source of a host:
 * - reads at boot after its `startup.splay` wait (the same jitter() the
 *   product draws it with), then polls at `refresh`; a failed read is retried on the
 *   backoff schedule while the refresh timer keeps its own rhythm (SourceSet);
 * - on AWS a read is DescribeSecret, plus GetSecretValue at the first read
 *   (rotations are not modelled: each adds one per host, spread like the
 *   polls); the SDK's own
 *   retries (3 attempts, full jitter from 100 ms, 500 ms for throttling) are
 *   modelled, its retry quota is not (so the figures err high);
 * - on Vault a read is one request, and each host logs in once at boot;
 * - the store answers every request up to its quota in each second and
 *   throttles the rest (throttled requests count as load: they reach it);
 * - an outage refuses every request (also counted) for its whole length.
 */
export interface FleetOptions {
  readonly hosts: number;
  readonly secretsPerHost: number;
  readonly refreshMs: number;
  /** The fleet's `startup.splay` (src/sources/startup-splay.ts); 0 for none. */
  readonly startupSplayMs: number;
  readonly vaultBudgetPerSecond: number;
  readonly log: (line: string) => void;
}

/** Regional quotas of AWS Secrets Manager (AWS docs, per account and region). */
const AWS_QUOTAS = { DescribeSecret: 40_000, GetSecretValue: 10_000 } as const;
const OUTAGE_MS = 10 * 60_000;
/** The fleet-wide reboot: every host boots within this window (power returns to a region, a rollout of the base image). */
const REBOOT_WINDOW_MS = 60_000;
/** A fleet that has been up for a while booted over a longer window; steady state is measured an hour on. */
const ROLLING_BOOT_MS = 30 * 60_000;
const SLOT_MS = 100;

type Api = 'DescribeSecret' | 'GetSecretValue' | 'Vault';

/** Events of the simulation, bucketed by 100 ms slot: a flat list of (source, kind, generation) per slot. */
class Calendar {
  readonly #slots = new Map<number, number[]>();
  schedule(atMs: number, source: number, kind: number, generation: number): void {
    const slot = Math.floor(atMs / SLOT_MS);
    let list = this.#slots.get(slot);
    if (list === undefined) this.#slots.set(slot, (list = []));
    list.push(source, kind, generation);
  }
  take(slot: number): number[] | undefined {
    const list = this.#slots.get(slot);
    this.#slots.delete(slot);
    return list;
  }
}

const POLL = 0;
const RETRY = 1;

interface Scenario {
  readonly name: string;
  readonly bootWindowMs: number;
  readonly outageAtMs?: number;
  /** The window whose seconds are reported: [from, to). */
  readonly measureFromMs: number;
  readonly measureToMs: number;
}

/** Requests per second of each API over the whole run. */
type Load = Map<Api, Int32Array>;

function simulate(store: 'aws' | 'vault', scenario: Scenario, options: FleetOptions, seed: number): Load {
  const random = seededRandom(seed);
  const sources = options.hosts * options.secretsPerHost;
  const endMs = scenario.measureToMs;
  const seconds = Math.ceil(endMs / 1000) + 1;
  const apis: Api[] = store === 'aws' ? ['DescribeSecret', 'GetSecretValue'] : ['Vault'];
  const offered: Load = new Map(apis.map((api) => [api, new Int32Array(seconds)]));
  const accepted: Load = new Map(apis.map((api) => [api, new Int32Array(seconds)]));
  const quota = (api: Api): number => (api === 'Vault' ? options.vaultBudgetPerSecond : AWS_QUOTAS[api]);
  const started = new Uint8Array(sources);
  const attempts = new Int32Array(sources);
  const generations = new Int32Array(sources);
  const calendar = new Calendar();
  const outage = (atMs: number): boolean => scenario.outageAtMs !== undefined && atMs >= scenario.outageAtMs && atMs < scenario.outageAtMs + OUTAGE_MS;

  // One request with the SDK's retries on AWS (none on Vault); true when it was answered.
  const request = (api: Api, atMs: number): boolean => {
    const tries = store === 'aws' ? 3 : 1;
    const offeredPerSecond = offered.get(api) as Int32Array;
    const acceptedPerSecond = accepted.get(api) as Int32Array;
    let at = atMs;
    for (let attempt = 0; attempt < tries; attempt++) {
      const second = Math.floor(at / 1000);
      if (second >= seconds) return false;
      offeredPerSecond[second] = (offeredPerSecond[second] as number) + 1;
      const down = outage(at);
      const throttled = !down && (acceptedPerSecond[second] as number) >= quota(api);
      if (!down && !throttled) {
        acceptedPerSecond[second] = (acceptedPerSecond[second] as number) + 1;
        return true;
      }
      at += random() * Math.min(20_000, (throttled ? 500 : 100) * 2 ** (attempt + 1));
    }
    return false;
  };
  const read = (source: number, atMs: number): boolean => {
    if (store === 'vault') return request('Vault', atMs);
    if (!request('DescribeSecret', atMs)) return false;
    return started[source] === 1 || request('GetSecretValue', atMs);
  };

  for (let host = 0; host < options.hosts; host++) {
    const bootMs = random() * scenario.bootWindowMs + jitter(options.startupSplayMs, random);
    if (store === 'vault') request('Vault', bootMs);
    for (let index = 0; index < options.secretsPerHost; index++) calendar.schedule(bootMs, host * options.secretsPerHost + index, RETRY, 0);
  }
  for (let slot = 0; slot * SLOT_MS < endMs; slot++) {
    for (let list = calendar.take(slot); list !== undefined; list = calendar.take(slot)) {
      for (let i = 0; i < list.length; i += 3) {
        const source = list[i] as number;
        const kind = list[i + 1] as number;
        if (kind === RETRY && list[i + 2] !== generations[source]) continue;
        const atMs = slot * SLOT_MS + random() * SLOT_MS;
        const ok = read(source, atMs);
        if (ok) {
          generations[source] = (generations[source] as number) + 1;
          attempts[source] = 0;
          if (started[source] === 0) {
            started[source] = 1;
            calendar.schedule(atMs + refreshDelay(options.refreshMs, random()), source, POLL, 0);
          }
        } else {
          const backoff = started[source] === 1 ? REMOTE_BACKOFF : STARTUP_BACKOFF;
          const attempt = attempts[source] as number;
          attempts[source] = attempt + 1;
          const generation = (generations[source] as number) + 1;
          generations[source] = generation;
          calendar.schedule(atMs + backoffDelay(attempt, { ...backoff, random }), source, RETRY, generation);
        }
        if (kind === POLL) calendar.schedule(atMs + refreshDelay(options.refreshMs, random()), source, POLL, 0);
      }
    }
  }
  return offered;
}

/** Peak and p99 of the requests per second of one API inside a scenario's window, and the seconds above its quota. */
function summarize(load: Int32Array, scenario: Scenario, quotaPerSecond: number): { peak: number; p99: number; over: number } {
  const window = Array.from(load.subarray(Math.floor(scenario.measureFromMs / 1000), Math.floor(scenario.measureToMs / 1000)));
  return { peak: Math.max(...window), p99: percentile(window, 99), over: window.filter((n) => n > quotaPerSecond).length };
}

/**
 * The fleet of the performance issue — by default 100,000 hosts × 10 remote
 * secrets, 5-minute refresh — in three scenarios, against AWS Secrets
 * Manager's quotas and a Vault cluster's request budget: steady state, the
 * 30 minutes after a 10-minute outage of the store ends, and the 30 minutes
 * after a fleet-wide reboot.
 */
export function measureFleet(options: FleetOptions): BenchRow[] {
  const hour = 3_600_000;
  const scenarios: Scenario[] = [
    { name: 'steady state', bootWindowMs: ROLLING_BOOT_MS, measureFromMs: hour, measureToMs: 1.5 * hour },
    { name: `after a ${OUTAGE_MS / 60_000}-minute outage ends`, bootWindowMs: ROLLING_BOOT_MS, outageAtMs: hour, measureFromMs: hour + OUTAGE_MS, measureToMs: hour + OUTAGE_MS + 30 * 60_000 },
    { name: `after a fleet-wide reboot (all within ${REBOOT_WINDOW_MS / 1000} s)`, bootWindowMs: REBOOT_WINDOW_MS, measureFromMs: 0, measureToMs: 30 * 60_000 },
  ];
  const splay = options.startupSplayMs === 0 ? 'no startup.splay' : `startup.splay ${options.startupSplayMs / 60_000} min`;
  const fleet = `${options.hosts.toLocaleString('en-US')} hosts × ${options.secretsPerHost}, refresh ${options.refreshMs / 60_000} min, ${splay}`;
  const rows: BenchRow[] = [];
  for (const store of ['aws', 'vault'] as const) {
    scenarios.forEach((scenario, index) => {
      const started = Date.now();
      const load = simulate(store, scenario, options, 1 + index);
      options.log(`${store}, ${scenario.name}: simulated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const [api, perSecond] of load) {
        const quota = api === 'Vault' ? options.vaultBudgetPerSecond : AWS_QUOTAS[api];
        const { peak, p99, over } = summarize(perSecond, scenario, quota);
        rows.push({
          figure: `Fleet ${fleet}: ${api === 'Vault' ? 'Vault requests' : api}/s, ${scenario.name}`,
          value: `peak ${peak.toLocaleString('en-US')}, p99 ${p99.toLocaleString('en-US')}`,
          baseline: `${api === 'Vault' ? 'cluster budget' : 'quota'} ${quota.toLocaleString('en-US')}/s`,
          ratio: `peak ${(peak / quota).toFixed(2)}× quota`,
          target: 'no second above quota',
          met: over === 0,
        });
      }
    });
  }
  return rows;
}
