import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchRow } from './bench-row.js';
import { benchDir, randomValue, writeSecret } from './fixtures.js';
import { LiveProcess } from './measure-process.js';
import { formatMs } from './stats.js';
import { ROOT, baseEnv, secretvisor } from './subjects.js';
import { freePort } from '../test/helpers/processes.js';

/** Options of {@link measureHeldSockets}. */
export interface HeldSocketsOptions {
  readonly rotations: number;
  readonly log: (line: string) => void;
}

/** What a client saw while the service was rotated. */
interface Traffic {
  readonly requests: number;
  readonly failed: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly worstMs: number;
}

const SERVER = join(ROOT, 'examples', 'held-sockets', 'server.mjs');
/** Clients requesting in parallel, each one request after the other on a new connection. */
const CLIENTS = 4;
const REQUEST_TIMEOUT_MS = 10_000;
const QUIET_MS = 250;

/**
 * Requests refused or failed while secretvisor restarts an HTTP service for
 * `rotations` secret rotations, and the slowest answer: the service opening
 * its own port (a restart leaves a gap with nobody listening), then the
 * same service on a socket held by secretvisor (`listen:`), where
 * connections made during the gap wait in the socket's backlog.
 */
export async function measureHeldSockets(options: HeldSocketsOptions): Promise<BenchRow[]> {
  const baseline = await rotateUnderLoad('own-port', options);
  const held = await rotateUnderLoad('held', options);
  const overlap = await rotateUnderLoad('overlap', options);
  const describe = (traffic: Traffic): string =>
    `${traffic.failed} failed of ${traffic.requests}${traffic.errors.size > 0 ? ` (${[...traffic.errors].map(([code, n]) => `${code} ×${n}`).join(', ')})` : ''}; worst ${formatMs(traffic.worstMs)}`;
  return [
    {
      figure: `Requests failed during ${options.rotations} restart rotations, service opening its own port (no \`listen:\`)`,
      value: describe(baseline),
      baseline: '—',
      ratio: '—',
      target: '— (the baseline)',
      met: undefined,
    },
    {
      figure: `Requests failed during ${options.rotations} restart rotations, socket held by secretvisor (\`listen:\`)`,
      value: describe(held),
      baseline: `${baseline.failed} failed without listen:`,
      ratio: `worst latency ${formatMs(held.worstMs)} vs ${formatMs(baseline.worstMs)}`,
      target: '0 failed',
      met: held.failed === 0,
    },
    {
      figure: `Requests failed during ${options.rotations} overlap rotations, socket held by secretvisor (\`listen:\`, \`onChange.strategy: overlap\`)`,
      value: describe(overlap),
      baseline: `held socket, restart: worst ${formatMs(held.worstMs)}`,
      ratio: `worst latency ${formatMs(overlap.worstMs)} vs ${formatMs(held.worstMs)}`,
      target: '0 failed',
      met: overlap.failed === 0,
    },
  ];
}

// The new child's own readiness (the old one answers on the same socket): the file the example writes once it listens.
const OVERLAP = `onChange: { debounce: 100ms, strategy: overlap }\nready: { command: [/bin/sh, -c, 'test -e "$STATE_DIR/ready-$(printf %s "$DB_PASSWORD" | sha256sum | cut -c1-8)"'], interval: 20ms }\n`;

async function rotateUnderLoad(mode: 'own-port' | 'held' | 'overlap', options: HeldSocketsOptions): Promise<Traffic> {
  const heldSocket = mode !== 'own-port';
  const workspace = benchDir(mode);
  const port = await freePort();
  const { dir } = workspace;
  writeSecret(join(dir, 'db.env'), `DB_PASSWORD=${randomValue()}\n`);
  const listen = heldSocket ? `listen:\n  - { name: http, tcp: "127.0.0.1:${port}" }\n` : '';
  writeSecret(
    join(dir, 'secretvisor.yaml'),
    `version: 1\nsources:\n  db: { type: dotenv, path: db.env }\ninherit: [PATH, PORT, STATE_DIR]\n${mode === 'overlap' ? OVERLAP : 'onChange: { debounce: 100ms }\n'}${listen}`,
  );
  const cli = new LiveProcess(secretvisor(dir, ['run', '--', process.execPath, SERVER], baseEnv({ PORT: String(port), STATE_DIR: dir })));
  const isListening = (text: string): boolean => text.startsWith('listening on');
  try {
    await cli.waitForLine(isListening, 'the service to listen');
    const load = startLoad(port);
    for (let rotation = 1; rotation <= options.rotations; rotation++) {
      const from = cli.lines.length;
      writeSecret(join(dir, 'db.env'), `DB_PASSWORD=${randomValue()}\n`);
      await cli.waitForLine(isListening, `the service to listen again after rotation ${rotation}`, { from, timeoutMs: 30_000 });
      await sleep(QUIET_MS);
    }
    const traffic = await load.stop();
    options.log(`${mode}: ${traffic.failed} failed of ${traffic.requests}, worst ${formatMs(traffic.worstMs)}`);
    return traffic;
  } finally {
    await cli.stop();
    workspace.cleanup();
  }
}

function startLoad(port: number): { stop(): Promise<Traffic> } {
  let running = true;
  let requests = 0;
  let failed = 0;
  let worstMs = 0;
  const errors = new Map<string, number>();
  const client = async (): Promise<void> => {
    while (running) {
      const started = performance.now();
      const outcome = await getOnce(port);
      worstMs = Math.max(worstMs, performance.now() - started);
      requests++;
      if (outcome !== 'ok') {
        failed++;
        errors.set(outcome, (errors.get(outcome) ?? 0) + 1);
        // A refused connection fails at once: do not spin on a port nobody listens on.
        await sleep(5);
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  return {
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return { requests, failed, errors, worstMs };
    },
  };
}

function getOnce(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200 ? 'ok' : `HTTP ${response.statusCode}`));
      response.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    req.end();
  });
}
