import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { freePort, isAlive, waitForDeath } from '../helpers/processes.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { readyServiceProject, startReadyService, startedPids } from '../helpers/ready-service.js';
import { randomSecret } from '../helpers/secrets.js';
import { writeSecretFile } from '../helpers/tmp.js';

const BAD = 'bad-marker';
// The new child's own readiness: its file, named by a hash the shell computes (no value reaches an argv).
const CHECK = '[/bin/sh, -c, "test -e \\"$STATE_DIR/$(printf %s \\"$DB_PASSWORD\\" | sha256sum | cut -c1-16)\\""]';

interface Setup {
  readonly dir: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly cli: RunningCli;
}

async function setUp(options: { timeout?: string; badMode?: 'exit' | 'hang' } = {}): Promise<Setup> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const dir = readyServiceProject(
    [
      'onChange: { strategy: overlap, debounce: 50ms }',
      `ready: { command: ${CHECK}, timeout: ${options.timeout ?? '5s'}, interval: 50ms }`,
      `listen:\n  - { name: http, tcp: "127.0.0.1:${port}" }`,
      `metrics: { listen: "127.0.0.1:${metricsPort}" }`,
      '',
    ].join('\n'),
    'overlap-db',
  );
  const cli = startReadyService(dir, { STATE_DIR: dir, BAD_MARKER: BAD, BAD_MODE: options.badMode ?? 'exit' });
  await cli.waitForStderr('is ready after');
  return { dir, port, metricsPort, cli };
}

function rotate(setup: Setup, value: string): void {
  writeSecretFile(join(setup.dir, 'app.env'), `DB_PASSWORD=${value}\n`);
}

/**
 * The service processes that are children of secretvisor now: probes of the
 * ready: check are left out, and so is a fork not yet exec'd (it still has
 * secretvisor's own command line, which names the service too).
 */
function serviceChildren(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
  return children.filter((child) => {
    try {
      const cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8');
      return isAlive(child) && cmdline.includes('ready-service.mjs') && !cmdline.includes('secretvisor.cjs');
    } catch {
      return false;
    }
  });
}

/** Samples the number of service children every 5 ms until stopped; resolves with the largest seen. */
function watchChildren(pid: number): { stop(): Promise<number> } {
  let most = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      most = Math.max(most, serviceChildren(pid).length);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return most;
    },
  };
}

function get(port: number, path = '/'): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? 'error' }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? 'error' }));
    req.end();
  });
}

async function servingPid(port: number): Promise<number> {
  const answer = await get(port);
  if (!('body' in answer)) throw new Error(`request failed: ${answer.error}`);
  return Number(/pid=(\d+)/.exec(answer.body)?.[1]);
}

describe('onChange.strategy: overlap', () => {
  it('a good rotation: the new child serves once ready, the old one is gone, never more than two children', async () => {
    const setup = await setUp();
    const [first] = startedPids(setup.cli);
    const children = watchChildren(setup.cli.pid);
    rotate(setup, randomSecret('overlap-good'));
    await setup.cli.waitForStderr('is ready; stopping the old one');
    expect(await waitForDeath(first!)).toBe(true);
    const second = startedPids(setup.cli)[1]!;
    expect(await servingPid(setup.port)).toBe(second);
    expect(await children.stop()).toBeLessThanOrEqual(2);
    setup.cli.kill('SIGTERM');
    expect((await setup.cli.exited()).code).toBe(0);
    expect(isAlive(second)).toBe(false);
  });

  it('a bad rotation (the new child exits): the old child keeps serving, the metric counts it, the log says why', async () => {
    const setup = await setUp();
    const [first] = startedPids(setup.cli);
    rotate(setup, randomSecret(BAD));
    await setup.cli.waitForStderr('rotation of app rejected');
    expect(logText(setup.cli.stderr)).toMatch(
      /rotation of app rejected: the new child \(pid \d+\) exited with code 1 before it was ready; the old child \(pid \d+\) keeps serving on the previous secrets/,
    );
    expect(await servingPid(setup.port)).toBe(first);
    expect(isAlive(first!)).toBe(true);
    const metrics = await get(setup.metricsPort, '/metrics');
    expect('body' in metrics && sampleValue(parseExposition(metrics.body), 'secretvisor_rotations_rejected_total')).toBe(1);
    const status = await get(setup.metricsPort, '/status');
    expect('body' in status && JSON.parse(status.body).child).toMatchObject({ up: true, pid: first, previousSecrets: true });
    setup.cli.kill('SIGTERM');
    expect((await setup.cli.exited()).code).toBe(0);
  });

  it('a new child never ready in time is stopped; the old child keeps serving', async () => {
    const setup = await setUp({ timeout: '1s', badMode: 'hang' });
    const [first] = startedPids(setup.cli);
    rotate(setup, randomSecret(BAD));
    await setup.cli.waitForStderr('rotation of app rejected');
    expect(logText(setup.cli.stderr)).toMatch(/rotation of app rejected: the new child \(pid (\d+)\) was not ready within ready\.timeout 1s \(command /);
    const rejected = startedPids(setup.cli)[1]!;
    expect(await waitForDeath(rejected)).toBe(true);
    expect(await servingPid(setup.port)).toBe(first);
    setup.cli.kill('SIGTERM');
    expect((await setup.cli.exited()).code).toBe(0);
  });

  it('a stop during the overlap ends both children', async () => {
    const setup = await setUp({ timeout: '60s', badMode: 'hang' });
    const [first] = startedPids(setup.cli);
    rotate(setup, randomSecret(BAD));
    await setup.cli.waitFor((cli) => startedPids(cli).length === 2, 'the new child');
    const second = startedPids(setup.cli)[1]!;
    setup.cli.kill('SIGTERM');
    expect((await setup.cli.exited()).code).toBe(0);
    expect(isAlive(first!)).toBe(false);
    expect(isAlive(second)).toBe(false);
  });

  it('with a held socket, a client hammering during rotations sees no failed request', async () => {
    const setup = await setUp();
    let running = true;
    const failures: string[] = [];
    let requests = 0;
    const client = async (): Promise<void> => {
      while (running) {
        const answer = await get(setup.port);
        requests++;
        if (!('status' in answer) || answer.status !== 200) failures.push('error' in answer ? answer.error : `HTTP ${answer.status}`);
      }
    };
    const clients = [client(), client(), client()];
    for (let rotation = 1; rotation <= 3; rotation++) {
      const from = setup.cli.stderr.length;
      rotate(setup, randomSecret('overlap-hammer'));
      await setup.cli.waitFor((cli) => cli.stderr.slice(from).includes('the old child'), `rotation ${rotation} to end`);
    }
    running = false;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(10);
    setup.cli.kill('SIGTERM');
    expect((await setup.cli.exited()).code).toBe(0);
  });
});
