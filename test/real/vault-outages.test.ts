import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, type RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { randomSecret, trackSecret } from '../helpers/secrets.js';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../helpers/tcp-proxy.js';
import { describeReal } from './tools/require-tool.js';
import { BAO_NEEDS, startFileServer, type FileBaoServer } from './openbao/bao-server.js';
import { freePort } from './openbao/process-tools.js';
import { cliEnv, startRun, startValues, starts, stopRun, waitForStarts, waitUntil, workspace, type Workspace } from './openbao/workspace.js';

// Outages of a real OpenBao (raft storage, so it can be sealed, stopped and
// started again with its data) and network faults between secretvisor and
// it through a TCP proxy of the tests: latency, resets, a black hole. Each
// time the child keeps its last good secrets untouched, and the next good
// read applies.

// A real server on a shared, loaded machine: generous limits; every wait is on an event.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

describeReal('OpenBao outages and network faults', BAO_NEEDS, () => {
  let bao: FileBaoServer;
  let token: string;

  beforeAll(async () => {
    bao = await startFileServer();
    await bao.initAndUnseal();
    await bao.bao(['secrets', 'enable', '-path=secret', 'kv-v2']);
    await bao.bao(['policy', 'write', 'app', '-'], { input: 'path "secret/data/*" { capabilities = ["read"] }\n' });
    token = trackSecret((await bao.bao(['token', 'create', '-policy=app', '-ttl=1h', '-field=token'])).trim());
  }, 120_000);

  afterAll(async () => {
    await bao?.destroy();
  });

  let counter = 0;
  const failures = (cli: RunningCli) => logText(cli.stderr).split('keeping its last good secrets').length - 1;
  const reads = (path: string) => bao.audit.count({ path, operation: 'read' });

  /** A run reading a fresh secret every 300 ms through `address`; resolves once the child has started with its first value. */
  async function supervise(address: string, options: { timeout?: string } = {}): Promise<{ ws: Workspace; cli: RunningCli; path: string; first: string }> {
    counter += 1;
    const path = `app/o${counter}`;
    const first = randomSecret('first');
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${first}`]);
    const ws = workspace(`  core:\n    type: vault\n    address: ${address}\n    path: secret/data/${path}\n    refresh: 300ms\n    timeout: ${options.timeout ?? '2s'}`);
    const cli = startRun(ws, cliEnv(ws, ['VALUE'], { VAULT_TOKEN: token }));
    await waitForStarts(cli, ws, 1);
    return { ws, cli, path, first };
  }

  /** After an outage: a new version is written; the child restarts once with it, having started only once before. */
  async function expectRecovery(run: { ws: Workspace; cli: RunningCli; path: string; first: string }): Promise<void> {
    expect(starts(run.ws)).toBe(1);
    const next = randomSecret('next');
    await bao.bao(['kv', 'put', `secret/${run.path}`, `VALUE=${next}`]);
    await waitForStarts(run.cli, run.ws, 2, 'the restart with the version written after the outage');
    expect(startValues(run.ws)).toEqual([{ VALUE: run.first }, { VALUE: next }]);
    expect(await stopRun(run.cli)).toBe(0);
  }

  describe('the server itself', () => {
    it('sealed mid-run (bao operator seal): last good kept, 503 sealed logged; unsealed: recovered', async () => {
      const run = await supervise(bao.address);
      await bao.seal();
      await run.cli.waitFor((cli) => failures(cli) >= 2, 'two failed reads while sealed', 45_000);
      expect(logText(run.cli.stderr)).toMatch(/failed: 503 Vault is sealed/);
      expect(logText(run.cli.stderr)).toContain('unseal Vault');
      await bao.unseal();
      await waitUntil(() => reads(`secret/data/${run.path}`) > 0, 'a read after the unseal');
      await expectRecovery(run);
    });

    it('stopped and started again mid-run (same port, same raft storage): last good kept; recovered', async () => {
      const run = await supervise(bao.address);
      await bao.stop();
      await run.cli.waitFor((cli) => failures(cli) >= 2, 'two failed reads while stopped', 45_000);
      expect(logText(run.cli.stderr)).toContain('ECONNREFUSED');
      await bao.restart();
      await expectRecovery(run);
    });

    it('sealed at start-up: retries until startup.timeout, then exits 69 naming the sealed Vault', async () => {
      await bao.bao(['kv', 'put', 'secret/app/sealed-at-start', `VALUE=${randomSecret('value')}`]);
      await bao.seal();
      try {
        const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: secret/data/app/sealed-at-start`, { startupTimeout: '3s' });
        const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
        expect(result.code).toBe(69);
        const text = logText(result.stderr);
        expect(text.split('not reachable yet').length - 1).toBeGreaterThanOrEqual(2);
        expect(text).toMatch(/could not be reached at start-up within startup\.timeout \(3s\): .*503 Vault is sealed/);
      } finally {
        await bao.unseal();
      }
    });

    it('unreachable at start-up: retries until startup.timeout, then exits 69 naming ECONNREFUSED', async () => {
      const nothing = await freePort();
      const ws = workspace(`  core:\n    type: vault\n    address: http://127.0.0.1:${nothing}\n    path: secret/data/app/x`, { startupTimeout: '3s' });
      const started = Date.now();
      const result = await runCli(['run', '-c', ws.config, '--', process.execPath, '-e', ''], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
      expect(result.code).toBe(69);
      expect(Date.now() - started).toBeLessThan(3_000 + 10_000);
      const text = logText(result.stderr);
      expect(text.split('not reachable yet').length - 1).toBeGreaterThanOrEqual(2);
      expect(text).toMatch(/source "core" could not be reached at start-up .*ECONNREFUSED/);
    });
  });

  describe('through a TCP proxy', () => {
    let proxy: TcpProxy;

    beforeAll(async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: bao.port });
    });

    afterAll(async () => {
      await proxy?.stop();
    });

    it('latency under the request timeout changes nothing; over it, last good kept ("no answer"), then recovered', async () => {
      proxy.latencyMs = 0;
      proxy.mode = 'forward';
      const run = await supervise(`http://127.0.0.1:${proxy.port}`, { timeout: '1s' });
      proxy.latencyMs = 200;
      const before = reads(`secret/data/${run.path}`);
      await waitUntil(() => reads(`secret/data/${run.path}`) >= before + 3, 'three slow reads');
      expect(failures(run.cli)).toBe(0);
      proxy.latencyMs = 3_000;
      await run.cli.waitFor((cli) => failures(cli) >= 2, 'two reads timed out', 45_000);
      expect(logText(run.cli.stderr)).toContain('no answer within 1000ms');
      proxy.latencyMs = 0;
      await expectRecovery(run);
    });

    it.each<[ProxyMode, RegExp]>([
      ['reset', /ECONNRESET|socket hang up/],
      ['blackhole', /no answer within 1000ms/],
    ])('connections %s: last good kept, then recovered', async (mode, message) => {
      proxy.latencyMs = 0;
      proxy.mode = 'forward';
      const run = await supervise(`http://127.0.0.1:${proxy.port}`, { timeout: '1s' });
      proxy.mode = mode;
      await run.cli.waitFor((cli) => failures(cli) >= 2, `two failed reads (${mode})`, 45_000);
      expect(logText(run.cli.stderr)).toMatch(message);
      proxy.mode = 'forward';
      await expectRecovery(run);
    });
  });
});
