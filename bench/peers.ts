import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensurePythonEnv, pythonTool } from '../test/real/tools/python-env.js';
import type { BenchRow } from './bench-row.js';
import { benchDir, randomValue, writeSecret } from './fixtures.js';
import { LiveProcess, cpuMsOf, memoryOf, type CommandSpec } from './measure-process.js';
import { startOpenBaoDev, type OpenBaoDev } from './openbao-dev.js';
import { formatMb, formatMs, formatRatio, median, percentile } from './stats.js';
import { CLI, baseEnv } from './subjects.js';

/** Options of {@link measurePeers}. */
export interface PeersOptions {
  readonly startRounds: number;
  readonly rotations: number;
  readonly idleSeconds: number;
  readonly log: (line: string) => void;
}

const SECRETS = 10;
/** Both supervisors poll Vault this often, so rotation latency compares the same schedule. */
const POLL_SECONDS = 1;
const SETTLE_MS = 10_000;
/** How long an unrelated write is given to (wrongly) restart the child: a few polls and Vault Agent's template wait. */
const UNRELATED_WINDOW_MS = 5_000;
const UNRELATED_WRITES = 3;

/**
 * The child every peer supervises: it prints the first secret, how many
 * variables its environment holds, and how many of them are VAULT_* or
 * BAO_*, then sleeps. `exec` makes the sleep the supervised process itself.
 */
const CHILD = ['/bin/sh', '-c', 'printf "ready %s %s %s\\n" "$SECRET_1" "$(env | wc -l)" "$(env | grep -c -E "^(VAULT|BAO)_")"; exec sleep 3600'];

/** One supervisor under comparison: how to launch it, or why it is not here. */
interface Peer {
  readonly name: string;
  readonly spec?: CommandSpec;
  readonly absent?: string;
}

/** What one launch of a peer showed. */
interface Launch {
  readonly ms: number;
  readonly variables: number;
  readonly vaultVariables: number;
  readonly exit: string;
}

/**
 * secretvisor against the supervisors its users would otherwise pick, on one
 * real OpenBao (`bao server -dev`) holding the same 10 KV v2 secrets, each
 * supervising the same small child: OpenBao Agent's process-supervisor mode
 * (`exec` with `env_template`) and envconsul. Subjects are interleaved round
 * by round. A peer that cannot be installed here is reported as absent.
 */
export async function measurePeers(options: PeersOptions): Promise<BenchRow[]> {
  ensurePythonEnv(options.log);
  const bao = pythonTool('bao');
  if (bao === undefined) throw new Error('the pinned Python environment has no bao binary (test/real/tools/requirements.txt)');
  const server = await startOpenBaoDev(bao);
  const workspace = benchDir('peers');
  try {
    const values = new Map<number, string>();
    for (let index = 1; index <= SECRETS; index++) {
      values.set(index, randomValue());
      await server.putKv(`peers/s${index}`, { [`SECRET_${index}`]: values.get(index) as string, UNUSED: randomValue() });
    }
    const peers: Peer[] = [
      { name: 'secretvisor', spec: secretvisorSpec(workspace.dir, server) },
      { name: '`bao agent` (exec mode)', spec: baoAgentSpec(workspace.dir, server, bao) },
      {
        name: 'envconsul',
        absent: 'not installed: the Go module proxy reachable here refuses github.com/hashicorp/envconsul (403 "not available") for every version',
      },
    ];
    const present = peers.filter((peer): peer is Peer & { spec: CommandSpec } => peer.spec !== undefined);
    const first = (): string => values.get(1) as string;

    const launches = new Map<string, Launch[]>(present.map((peer) => [peer.name, []]));
    for (let round = 0; round < options.startRounds; round++) {
      for (const peer of present) launches.get(peer.name)?.push(await launchOnce(peer.spec, first()));
    }
    options.log(`start-up: ${present.map((peer) => `${peer.name} ${formatMs(median(launches.get(peer.name)?.map((l) => l.ms) ?? []))}`).join(', ')}`);

    const resident = await measureIdle(present, first(), options);
    const rotations = new Map<string, RotationResult>();
    for (const peer of present) {
      rotations.set(peer.name, await measureRotations(peer.spec, server, values, options));
      options.log(`rotation ${peer.name}: p50 ${formatMs(median(rotations.get(peer.name)?.latencies ?? []))}`);
    }
    return rows({ peers, launches, resident, rotations, rounds: options.startRounds, rotationsCount: options.rotations, idleSeconds: options.idleSeconds });
  } finally {
    workspace.cleanup();
    await server.stop();
  }
}

function secretvisorSpec(dir: string, server: OpenBaoDev): CommandSpec {
  const home = join(dir, 'secretvisor');
  const tokenFile = join(dir, 'secretvisor-token');
  writeSecret(tokenFile, `${server.rootToken}\n`);
  const sources = Array.from({ length: SECRETS }, (_, index) => {
    const n = index + 1;
    return [
      `  s${n}:`,
      '    type: vault',
      `    address: ${server.address}`,
      `    path: secret/data/peers/s${n}`,
      `    auth: { method: token, tokenFile: ${tokenFile} }`,
      `    keys: { SECRET_${n}: SECRET_${n} }`,
      `    refresh: ${POLL_SECONDS}s`,
    ].join('\n');
  });
  const config = join(`${home}.yaml`);
  writeSecret(config, `version: 1\nsources:\n${sources.join('\n')}\n`);
  return { argv: [process.execPath, CLI, 'run', '-c', config, '--', ...CHILD], cwd: dir, env: baseEnv({ VAULT_ADDR: server.address }) };
}

function baoAgentSpec(dir: string, server: OpenBaoDev, bao: string): CommandSpec {
  const tokenFile = join(dir, 'agent-token');
  writeSecret(tokenFile, `${server.rootToken}\n`);
  const templates = Array.from({ length: SECRETS }, (_, index) => {
    const n = index + 1;
    return [`env_template "SECRET_${n}" {`, `  contents = "{{ with secret \\"secret/data/peers/s${n}\\" }}{{ .Data.data.SECRET_${n} }}{{ end }}"`, '  error_on_missing_key = true', '}'].join('\n');
  });
  const hcl = [
    `vault { address = "${server.address}" }`,
    'auto_auth {',
    `  method "token_file" { config = { token_file_path = "${tokenFile}" } }`,
    '}',
    `template_config { static_secret_render_interval = "${POLL_SECONDS}s" }`,
    ...templates,
    'exec {',
    `  command = [${CHILD.map((part) => JSON.stringify(part)).join(', ')}]`,
    '  restart_on_secret_changes = "always"',
    '  restart_stop_signal = "SIGTERM"',
    '}',
  ].join('\n');
  const config = join(dir, 'agent.hcl');
  writeFileSync(config, `${hcl}\n`, { mode: 0o600 });
  return { argv: [bao, 'agent', `-config=${config}`], cwd: dir, env: baseEnv({ VAULT_ADDR: server.address }) };
}

/** A `ready VALUE VARS VAULT_VARS` line of the child. */
function readyLine(text: string): { value: string; variables: number; vaultVariables: number } | undefined {
  const match = /^ready (\S+) (\d+) (\d+)$/.exec(text.trim());
  return match === null ? undefined : { value: match[1] as string, variables: Number(match[2]), vaultVariables: Number(match[3]) };
}

async function launchOnce(spec: CommandSpec, expected: string): Promise<Launch> {
  const launched = performance.now();
  const live = new LiveProcess(spec);
  try {
    const at = await live.waitForLine((text) => readyLine(text)?.value === expected, `${spec.argv[0]} to start its child`, { timeoutMs: 60_000 });
    const ready = readyLine(live.lines.find((line) => readyLine(line.text)?.value === expected)?.text ?? '');
    const exit = await terminate(live);
    return { ms: at - launched, variables: ready?.variables ?? Number.NaN, vaultVariables: ready?.vaultVariables ?? Number.NaN, exit };
  } finally {
    await live.stop();
  }
}

/** SIGTERM to the supervisor alone (as systemd or `docker stop` send it); resolves with how it ended. */
async function terminate(live: LiveProcess): Promise<string> {
  const exited = once(live.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  live.child.kill('SIGTERM');
  const timeout = sleep(20_000).then(() => 'timeout' as const);
  const result = await Promise.race([exited, timeout]);
  if (result === 'timeout') return 'still running 20 s after SIGTERM';
  const [code, signal] = result;
  return code !== null ? `exit ${code}` : `killed by ${signal}`;
}

interface Idle {
  readonly peakKb: number;
  readonly rssKb: number;
  readonly cpuPercent: number;
}

async function measureIdle(peers: readonly (Peer & { spec: CommandSpec })[], expected: string, options: PeersOptions): Promise<Map<string, Idle>> {
  const running = peers.map((peer) => ({ peer, live: new LiveProcess(peer.spec) }));
  try {
    for (const { peer, live } of running) {
      await live.waitForLine((text) => readyLine(text)?.value === expected, `${peer.name} to start its child`, { timeoutMs: 60_000 });
    }
    await sleep(SETTLE_MS);
    const before = running.map(({ live }) => cpuMsOf(live.pid));
    const started = performance.now();
    options.log(`idle window: ${options.idleSeconds} s`);
    await sleep(options.idleSeconds * 1_000);
    const seconds = (performance.now() - started) / 1_000;
    return new Map(
      running.map(({ peer, live }, index) => {
        const memory = memoryOf(live.pid);
        const cpuPercent = ((cpuMsOf(live.pid) - (before[index] as number)) / 1_000 / seconds) * 100;
        return [peer.name, { peakKb: memory.peakKb, rssKb: memory.rssKb, cpuPercent }];
      }),
    );
  } finally {
    await Promise.all(running.map(({ live }) => live.stop()));
  }
}

interface RotationResult {
  readonly latencies: number[];
  /** Children started per rotation of a received secret (1 is right). */
  readonly restartsPerRotation: number;
  /** Children started per write that changed only a key the child does not receive (0 is right). */
  readonly restartsPerUnrelated: number;
}

async function measureRotations(spec: CommandSpec, server: OpenBaoDev, values: Map<number, string>, options: PeersOptions): Promise<RotationResult> {
  const live = new LiveProcess(spec);
  const starts = (from: number): number => live.lines.slice(from).filter((line) => readyLine(line.text) !== undefined).length;
  try {
    await live.waitForLine((text) => readyLine(text)?.value === values.get(1), 'the first child', { timeoutMs: 60_000 });
    await sleep(3_000);
    const latencies: number[] = [];
    let restarts = 0;
    for (let index = 0; index <= options.rotations; index++) {
      const value = randomValue();
      const from = live.lines.length;
      await server.putKv('peers/s1', { SECRET_1: value, UNUSED: randomValue() });
      const written = performance.now();
      values.set(1, value);
      const seen = await live.waitForLine((text) => readyLine(text)?.value === value, `the child to start with rotation ${index}'s value`, {
        from,
        timeoutMs: 30_000,
      });
      await sleep(1_000);
      if (index === 0) continue;
      latencies.push(seen - written);
      restarts += starts(from);
    }
    const unrelatedFrom = live.lines.length;
    for (let write = 0; write < UNRELATED_WRITES; write++) {
      await server.putKv('peers/s2', { SECRET_2: values.get(2) as string, UNUSED: randomValue() });
      await sleep(UNRELATED_WINDOW_MS);
    }
    return {
      latencies,
      restartsPerRotation: restarts / options.rotations,
      restartsPerUnrelated: starts(unrelatedFrom) / UNRELATED_WRITES,
    };
  } finally {
    await live.stop();
  }
}

interface Measured {
  readonly peers: readonly Peer[];
  readonly launches: Map<string, Launch[]>;
  readonly resident: Map<string, Idle>;
  readonly rotations: Map<string, RotationResult>;
  readonly rounds: number;
  readonly rotationsCount: number;
  readonly idleSeconds: number;
}

function rows(measured: Measured): BenchRow[] {
  const [self, ...others] = measured.peers;
  if (self === undefined) return [];
  const out: BenchRow[] = [];
  const compare = (figure: string, value: (name: string) => number, format: (n: number) => string, lowerIsBetter = true): void => {
    for (const other of others) {
      if (other.absent !== undefined) continue;
      const mine = value(self.name);
      const theirs = value(other.name);
      out.push({
        figure,
        value: format(mine),
        baseline: `${other.name} ${format(theirs)}`,
        ratio: formatRatio(mine, theirs),
        target: lowerIsBetter ? `≤ ${other.name}` : '—',
        met: lowerIsBetter ? mine <= theirs : undefined,
      });
    }
  };
  const launchesOf = (name: string): Launch[] => measured.launches.get(name) ?? [];
  compare(`Launch → child running with its ${SECRETS} Vault secrets (median of ${measured.rounds})`, (name) => median(launchesOf(name).map((l) => l.ms)), formatMs);
  compare('Supervisor peak RSS (VmHWM) while the child runs', (name) => measured.resident.get(name)?.peakKb ?? Number.NaN, formatMb);
  compare('Supervisor RSS (VmRSS) while the child runs', (name) => measured.resident.get(name)?.rssKb ?? Number.NaN, formatMb);
  compare(
    `Supervisor idle CPU over ${measured.idleSeconds} s, polling Vault every ${POLL_SECONDS} s`,
    (name) => measured.resident.get(name)?.cpuPercent ?? Number.NaN,
    (n) => `${n.toFixed(2)} % of a core`,
  );
  const latencies = (name: string): number[] => measured.rotations.get(name)?.latencies ?? [];
  compare(`Rotation: write → new child running with it, p50 of ${measured.rotationsCount} (poll ${POLL_SECONDS} s)`, (name) => median(latencies(name)), formatMs);
  compare(`Rotation: write → new child running with it, p95 of ${measured.rotationsCount} (poll ${POLL_SECONDS} s)`, (name) => percentile(latencies(name), 95), formatMs);
  compare(
    'Children started per rotation of a received secret (1 is right)',
    (name) => measured.rotations.get(name)?.restartsPerRotation ?? Number.NaN,
    (n) => n.toFixed(2),
    false,
  );
  compare(
    'Children started per write changing only a key the child does not receive (0 is right)',
    (name) => measured.rotations.get(name)?.restartsPerUnrelated ?? Number.NaN,
    (n) => n.toFixed(2),
  );
  compare(
    `Variables in the child's environment besides its ${SECRETS} secrets`,
    (name) => (launchesOf(name)[0]?.variables ?? Number.NaN) - SECRETS,
    (n) => String(n),
  );
  compare(
    'VAULT_* / BAO_* variables reaching the child',
    (name) => launchesOf(name)[0]?.vaultVariables ?? Number.NaN,
    (n) => String(n),
  );
  for (const other of others) {
    if (other.absent !== undefined) {
      out.push({ figure: `${other.name}: every figure above`, value: 'absent', baseline: other.absent, ratio: '—', target: '—', met: undefined });
      continue;
    }
    const exits = (name: string): string => [...new Set(launchesOf(name).map((l) => l.exit))].join(', ');
    out.push({
      figure: 'How the supervisor ends after SIGTERM (the child exits 143)',
      value: exits(self.name),
      baseline: `${other.name}: ${exits(other.name)}`,
      ratio: '—',
      target: '—',
      met: undefined,
    });
  }
  return out;
}
