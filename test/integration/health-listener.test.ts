import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { pollUntil } from '../helpers/poll-until.js';
import { parseExposition, sampleValue, type Exposition } from '../helpers/prometheus-text.js';
import { expectNoLeak, randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { freePort } from '../helpers/processes.js';

const RECORD_ENV = fileURLToPath(new URL('../fixtures/record-env.mjs', import.meta.url));

/** Every body the listener sent, for the leak check at the end of each test. */
const bodies: string[] = [];
afterEach(async () => {
  expectNoLeak(bodies.splice(0).join('\n'), 'the health listener');
});

interface Service {
  readonly dir: string;
  readonly config: string;
  readonly envFile: string;
  readonly base: string;
  readonly cli: RunningCli;
}

async function startService(options: { extraConfig?: string; childEnv?: NodeJS.ProcessEnv; sourceOptions?: string } = {}): Promise<Service> {
  const dir = tempDir('sv-health-');
  const port = await freePort();
  const envFile = join(dir, 'app.env');
  writeSecretFile(envFile, `DB_PASSWORD=${randomSecret('health-db')}\n`);
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'sources:',
      `  app: { type: dotenv, path: app.env, refresh: 1s${options.sourceOptions ?? ''} }`,
      'scopes:',
      '  global: [app]',
      `metrics: { listen: "127.0.0.1:${port}" }`,
      options.extraConfig ?? '',
    ].join('\n'),
  );
  const env = baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', RECORD_KEYS: 'DB_PASSWORD', RECORD_FILE: join(dir, 'record.jsonl'), ...options.childEnv });
  const cli = startCli(['run', '-c', config, '--', process.execPath, RECORD_ENV], { cwd: dir, env });
  return { dir, config, envFile, base: `http://127.0.0.1:${port}`, cli };
}

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(url);
  const body = await response.text();
  bodies.push(body);
  return { status: response.status, type: response.headers.get('content-type') ?? '', body };
}

async function scrape(service: Service): Promise<Exposition> {
  const { status, type, body } = await get(`${service.base}/metrics`);
  expect(status).toBe(200);
  expect(type).toContain('text/plain; version=0.0.4');
  return parseExposition(body);
}

/** Scrapes until `predicate` holds: the state changes with file events and timers, never at a known moment. */
function scrapeUntil(service: Service, predicate: (metrics: Exposition) => boolean, what: string, timeoutMs = 20_000): Promise<Exposition> {
  let metrics: Exposition | undefined;
  const probe = async (): Promise<Exposition | undefined> => {
    // The listener opens once the config is read: until then, nothing answers.
    metrics = await scrape(service).catch((error: unknown) => {
      if ((error as { cause?: { code?: string } }).cause?.code !== 'ECONNREFUSED') throw error;
      return undefined;
    });
    return metrics !== undefined && predicate(metrics) ? metrics : undefined;
  };
  const lastScrape = (): string => metrics?.samples.map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`).join('\n') ?? 'none answered (ECONNREFUSED)';
  return pollUntil(probe, what, { timeoutMs, intervalMs: 100, detail: () => `last scrape:\n${lastScrape()}\nstderr:\n${service.cli.stderr}` });
}

const app = { source: 'app' };

describe('health listener (metrics: { listen })', () => {
  it('/metrics counts a rotation, then a failing source turns stale; /healthz and /status follow; nothing holds a value', async () => {
    const service = await startService();
    await service.cli.waitForReadyChildren(1);
    const first = await scrapeUntil(service, (m) => sampleValue(m, 'secretvisor_healthy') === 1, 'healthy');
    expect(first.types.get('secretvisor_child_restarts_total')).toBe('counter');
    expect(first.types.get('secretvisor_source_stale')).toBe('gauge');
    for (const name of first.types.keys()) if (name.startsWith('secretvisor_')) expect(first.help.get(name), `HELP of ${name}`).toBeTruthy();
    expect(sampleValue(first, 'secretvisor_child_up')).toBe(1);
    expect(sampleValue(first, 'secretvisor_child_restarts_total', { reason: 'rotation' })).toBe(0);
    expect(sampleValue(first, 'secretvisor_source_stale', app)).toBe(0);
    expect(sampleValue(first, 'secretvisor_source_refresh_seconds', app)).toBe(1);
    const lastSuccess = sampleValue(first, 'secretvisor_source_last_success_timestamp_seconds', app) as number;
    expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(120);
    expect(sampleValue(first, 'secretvisor_secret_age_seconds', app)).toBeGreaterThanOrEqual(0);
    // The only labels are source names and restart reasons.
    for (const sample of first.samples.filter((s) => s.name.startsWith('secretvisor_'))) {
      for (const key of Object.keys(sample.labels)) expect(['source', 'reason']).toContain(key);
    }
    expect(await get(`${service.base}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });

    writeSecretFile(service.envFile, `DB_PASSWORD=${randomSecret('health-db-rotated')}\n`);
    await service.cli.waitForReadyChildren(2);
    const rotated = await scrapeUntil(service, (m) => sampleValue(m, 'secretvisor_child_restarts_total', { reason: 'rotation' }) === 1, 'a rotation restart');
    expect(sampleValue(rotated, 'secretvisor_rotations_total')).toBe(1);
    expect(sampleValue(rotated, 'secretvisor_last_rotation_timestamp_seconds')).toBeGreaterThan(lastSuccess - 1);

    writeSecretFile(service.envFile, `DB_PASSWORD=${randomSecret('health-db-broken')}\nthis line is not KEY=value\n`);
    const stale = await scrapeUntil(service, (m) => sampleValue(m, 'secretvisor_source_stale', app) === 1, 'the failing source to turn stale');
    expect(sampleValue(stale, 'secretvisor_source_consecutive_failures', app)).toBeGreaterThanOrEqual(1);
    expect(sampleValue(stale, 'secretvisor_source_failures_total', app)).toBeGreaterThanOrEqual(1);
    expect(sampleValue(stale, 'secretvisor_healthy')).toBe(0);
    expect(sampleValue(stale, 'secretvisor_child_up')).toBe(1);

    const healthz = await get(`${service.base}/healthz`);
    expect(healthz.status).toBe(503);
    expect(healthz.body).toMatch(/^unhealthy: source "app" is stale: its last good read was at .*longer ago than its refresh \(1s\); last error: .*line 2 is not KEY=value/);
    const status = await get(`${service.base}/status`);
    expect(status.type).toBe('application/json');
    const report = JSON.parse(status.body) as Record<string, unknown> & { child: Record<string, unknown>; sources: Record<string, unknown>[] };
    expect(report).toMatchObject({ healthy: false, service: null, pid: service.cli.pid, rotations: 1 });
    expect(report.child).toMatchObject({ up: true, ready: true, restarts: { rotation: 1, crash: 0, signal: 0 } });
    expect(report.sources).toEqual([
      expect.objectContaining({ name: 'app', kind: 'dotenv', state: 'stale', stale: true, fromCache: false, leaseSecondsLeft: null, lastError: expect.stringContaining('line 2 is not KEY=value') }),
    ]);
    expect((await get(`${service.base}/nowhere`)).status).toBe(404);

    service.cli.kill('SIGTERM');
    expect((await service.cli.exited()).code).toBe(0);
  });

  it('counts a rejected set (a required key missing): the child keeps its secrets, the source stays fresh', async () => {
    const service = await startService({ sourceOptions: ', required: [DB_PASSWORD]' });
    await service.cli.waitForReadyChildren(1);
    writeSecretFile(service.envFile, `OTHER=${randomSecret('health-other')}\n`);
    const rejected = await scrapeUntil(service, (m) => sampleValue(m, 'secretvisor_rotations_rejected_total') === 1, 'the rejected set to be counted');
    expect(sampleValue(rejected, 'secretvisor_rotations_total')).toBe(0);
    expect(sampleValue(rejected, 'secretvisor_child_restarts_total', { reason: 'rotation' })).toBe(0);
    expect(sampleValue(rejected, 'secretvisor_source_stale', app)).toBe(0);
    expect(sampleValue(rejected, 'secretvisor_healthy')).toBe(1);
    service.cli.kill('SIGTERM');
    expect((await service.cli.exited()).code).toBe(0);
  });

  it('counts crash restarts by reason, and /healthz says the child is not running while it waits to restart', async () => {
    const service = await startService({ extraConfig: 'onExit: restart', childEnv: { EXIT_CODE: '3' } });
    const metrics = await scrapeUntil(service, (m) => (sampleValue(m, 'secretvisor_child_restarts_total', { reason: 'crash' }) ?? 0) >= 1, 'a crash restart');
    expect(sampleValue(metrics, 'secretvisor_child_restarts_total', { reason: 'rotation' })).toBe(0);
    const healthz = await pollUntil(
      async () => {
        const answer = await get(`${service.base}/healthz`);
        return answer.status === 200 ? undefined : answer;
      },
      '/healthz to stop answering 200',
      { timeoutMs: 20_000 },
    );
    expect(healthz.status).toBe(503);
    expect(healthz.body).toMatch(/unhealthy: the child is not running: it exited with code 3 at /);
    service.cli.kill('SIGTERM');
    await service.cli.exited();
  });
});

describe('secretvisor status', () => {
  it('prints the running service as a table (exit 0 healthy, 1 unhealthy), or as JSON with --json', async () => {
    const service = await startService();
    await service.cli.waitForReadyChildren(1);
    await scrapeUntil(service, (m) => sampleValue(m, 'secretvisor_healthy') === 1, 'healthy');
    const healthy = await runCli(['status', '-c', service.config], { cwd: service.dir });
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.stdout).toMatch(/^service \(none named\): healthy \(secretvisor pid \d+, up /);
    expect(healthy.stdout).toMatch(/^child: pid \d+, up .*, ready$/m);
    expect(healthy.stdout).toContain('restarts: rotation 0, crash 0, signal 0');
    expect(healthy.stdout).toMatch(/^SOURCE +KIND +STATE +LAST READ +FAILURES +SECRET AGE +LEASE LEFT +CACHE +LAST ERROR$/m);
    expect(healthy.stdout).toMatch(/^app +dotenv +fresh +.* ago +0 +\S+ +- +- +-$/m);

    const json = await runCli(['status', '-c', service.config, '--json'], { cwd: service.dir });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ healthy: true, pid: service.cli.pid, sources: [{ name: 'app', state: 'fresh' }] });

    writeSecretFile(service.envFile, `DB_PASSWORD=${randomSecret('status-broken')}\nnot a line\n`);
    await scrapeUntil(service, (m) => sampleValue(m, 'secretvisor_source_stale', app) === 1, 'stale');
    const unhealthy = await runCli(['status', '-c', service.config], { cwd: service.dir });
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.stdout).toMatch(/^service \(none named\): UNHEALTHY/);
    expect(unhealthy.stdout).toMatch(/^ {2}- source "app" is stale/m);
    expect(unhealthy.stdout).toMatch(/^app +dotenv +stale +.* line 2 is not KEY=value$/m);
  });

  it('with metrics.services and metrics.pools, each process listens on its own port and status -s/-p finds it', async () => {
    const dir = tempDir('sv-health-');
    writeSecretFile(join(dir, 'app.env'), `DB_PASSWORD=${randomSecret('services-db')}\n`);
    const [shared, finance, research] = [await freePort(), await freePort(), await freePort()];
    const config = join(dir, 'sv.yaml');
    writeFileSync(
      config,
      [
        'version: 1',
        'sources:',
        '  app: { type: dotenv, path: app.env }',
        'scopes:',
        '  services: { api: [app], worker: [app] }',
        '  pools: { worker: { finance: [], research: [] } }',
        'metrics:',
        `  listen: "127.0.0.1:${shared}"`,
        `  services: { worker: "127.0.0.1:${research}" }`,
        `  pools: { worker: { finance: "127.0.0.1:${finance}" } }`,
        '',
      ].join('\n'),
    );
    const env = baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' });
    const start = (identity: string[]): RunningCli => {
      return startCli(['run', '-c', config, ...identity, '--', process.execPath, RECORD_ENV], { cwd: dir, env });
    };
    const api = start(['-s', 'api']);
    const financeCli = start(['-s', 'worker', '-p', 'finance']);
    // A pool without an entry of its own takes its service's.
    const researchCli = start(['-s', 'worker', '-p', 'research']);
    for (const cli of [api, financeCli, researchCli]) await cli.waitForReadyChildren(1);
    await financeCli.waitForStderr(`health listener on http://127.0.0.1:${finance}`);
    await researchCli.waitForStderr(`health listener on http://127.0.0.1:${research}`);
    for (const [identity, cli, expected] of [
      [['-s', 'api'], api, { service: 'api', pool: null }],
      [['-s', 'worker', '-p', 'finance'], financeCli, { service: 'worker', pool: 'finance' }],
      [['-s', 'worker', '-p', 'research'], researchCli, { service: 'worker', pool: 'research' }],
    ] as const) {
      const result = await runCli(['status', '-c', config, ...identity, '--json'], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ ...expected, pid: cli.pid, healthy: true });
    }
    const wrongPool = await runCli(['status', '-c', config, '-s', 'worker', '-p', 'nightly'], { cwd: dir });
    expect(wrongPool.code).toBe(69);
    expect(logText(wrongPool.stderr)).toContain('answers for pool "research" of service "worker", not pool "nightly" of service "worker"');
    expect(logText(wrongPool.stderr)).toContain('metrics.pools.worker.nightly');
  });

  it("reads only metrics: and scopes:, so it runs without the service's environment (${CREDENTIALS_DIRECTORY} in a source)", async () => {
    const dir = tempDir('sv-health-');
    writeSecretFile(join(dir, 'app.env'), `DB_PASSWORD=${randomSecret('credentials-db')}\n`);
    const port = await freePort();
    const config = join(dir, 'sv.yaml');
    writeFileSync(config, `version: 1\nsources:\n  app: { type: dotenv, path: "\${CREDENTIALS_DIRECTORY}/app.env" }\nscopes: { global: [app] }\nmetrics: { listen: "127.0.0.1:${port}" }\n`);
    const cli = startCli(['run', '-c', config, '--', process.execPath, RECORD_ENV], { cwd: dir, env: baseEnv({ CREDENTIALS_DIRECTORY: dir }) });
    await cli.waitForReadyChildren(1);
    const result = await runCli(['status', '-c', config], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^app +dotenv +fresh /m);
  });

  it('says nothing answers, with exit 69, when the service is not running', async () => {
    const dir = tempDir('sv-health-');
    writeSecretFile(join(dir, 'app.env'), 'A=1\n');
    const port = await freePort();
    writeFileSync(join(dir, 'sv.yaml'), `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nmetrics: { listen: "127.0.0.1:${port}" }\n`);
    const result = await runCli(['status', '-c', join(dir, 'sv.yaml')], { cwd: dir });
    expect(result.code).toBe(69);
    expect(logText(result.stderr)).toContain(`nothing answers at http://127.0.0.1:${port}/status (ECONNREFUSED): no secretvisor run of ${join(dir, 'sv.yaml')} is listening there`);
  });

  it('needs a metrics: section (exit 78)', async () => {
    const dir = tempDir('sv-health-');
    writeSecretFile(join(dir, 'app.env'), 'A=1\n');
    writeFileSync(join(dir, 'sv.yaml'), 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\n');
    const result = await runCli(['status', '-c', join(dir, 'sv.yaml')], { cwd: dir });
    expect(result.code).toBe(78);
    expect(logText(result.stderr)).toContain('has no metrics: section');
    expect(logText(result.stderr)).toContain('add metrics: { listen: 127.0.0.1:9464 }');
  });

  it('with -s, asks the port of that service and refuses an answer from another one', async () => {
    const service = await startService({ extraConfig: '' });
    await service.cli.waitForReadyChildren(1);
    const result = await runCli(['status', '-c', service.config, '-s', 'api'], { cwd: service.dir });
    expect(result.code).toBe(69);
    expect(logText(result.stderr)).toContain('answers for no named service, not service "api"');
    expect(logText(result.stderr)).toContain('metrics.services.api');
  });
});

describe('metrics: config', () => {
  const check = (metrics: string): Promise<{ code: number | null; stderr: string }> => {
    const dir = tempDir('sv-health-');
    writeSecretFile(join(dir, 'app.env'), 'A=1\n');
    writeFileSync(join(dir, 'sv.yaml'), `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nmetrics: ${metrics}\n`);
    return runCli(['check', '-c', join(dir, 'sv.yaml')], { cwd: dir });
  };

  it.each(['0.0.0.0:9464', '[::]:9464', '10.1.2.3:9464', 'metrics.example.com:9464'])('refuses the non-loopback address %s (exit 78)', async (address) => {
    const result = await check(`{ listen: "${address}" }`);
    expect(result.code).toBe(78);
    expect(logText(result.stderr)).toContain(`metrics.listen is ${address}, which is not a loopback address`);
    expect(logText(result.stderr)).toContain('metrics.allowNonLoopback: true');
  });

  it.each(['127.0.0.1:9464', '[::1]:9464', 'localhost:9464'])('accepts the loopback address %s', async (address) => {
    expect((await check(`{ listen: "${address}" }`)).code).toBe(0);
  });

  it('accepts a non-loopback address with allowNonLoopback: true', async () => {
    expect((await check('{ listen: "0.0.0.0:9464", allowNonLoopback: true }')).code).toBe(0);
  });

  it.each([
    ['{ listen: "9464" }', 'metrics.listen: expected host:port'],
    ['{ listen: "127.0.0.1:70000" }', 'metrics.listen: port 70000 is out of range'],
    ['{ listen: "127.0.0.1:9464", allowNonloopback: true }', 'allowNonloopback'],
    ['{ listen: "127.0.0.1:9464", services: { api: "127.0.0.1:9465" } }', 'metrics.services.api: there is no service "api" under scopes.services'],
    ['{ listen: "127.0.0.1:9464", pools: { api: { blue: "127.0.0.1:9465" } } }', 'metrics.pools.api.blue: there is no pool "blue" under scopes.pools.api'],
    ['{ listen: "127.0.0.1:9464", pools: { api: { blue: "10.0.0.1:9465" } } }', 'metrics.pools.api.blue'],
    ['{ listen: "127.0.0.1:9464", services: { "": "0.0.0.0:9465" } }', 'metrics.services'],
  ])('refuses %s with a clear error', async (metrics, message) => {
    const result = await check(metrics);
    expect(result.code).toBe(78);
    expect(logText(result.stderr)).toContain(message);
  });

  it('without metrics:, prom-client is never loaded; with it, it is (NODE_DEBUG=module shows every load)', async () => {
    const dir = tempDir('sv-health-');
    writeSecretFile(join(dir, 'app.env'), 'A=1\n');
    const port = await freePort();
    writeFileSync(join(dir, 'off.yaml'), 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nscopes: { global: [app] }\n');
    writeFileSync(join(dir, 'on.yaml'), `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nscopes: { global: [app] }\nmetrics: { listen: "127.0.0.1:${port}" }\n`);
    const env = baseEnv({ NODE_DEBUG: 'module' });
    const off = await runCli(['run', '--once', '-c', join(dir, 'off.yaml'), '--', 'true'], { cwd: dir, env });
    const on = await runCli(['run', '--once', '-c', join(dir, 'on.yaml'), '--', 'true'], { cwd: dir, env });
    expect([off.code, on.code]).toEqual([0, 0]);
    expect(on.stderr).toMatch(/Module\._load REQUEST prom-client/);
    expect(off.stderr).not.toContain('prom-client');
  });

  it('a port already in use fails start-up with exit 69, naming it', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as { port: number };
    try {
      const dir = tempDir('sv-health-');
      writeSecretFile(join(dir, 'app.env'), 'A=1\n');
      writeFileSync(join(dir, 'sv.yaml'), `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nscopes: { global: [app] }\nmetrics: { listen: "127.0.0.1:${port}" }\n`);
      const result = await runCli(['run', '-c', join(dir, 'sv.yaml'), '--', 'true'], { cwd: dir });
      expect(result.code).toBe(69);
      expect(logText(result.stderr)).toContain(`metrics.listen 127.0.0.1:${port} cannot be opened: EADDRINUSE`);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
