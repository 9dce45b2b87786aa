import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runCli, type RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { randomSecret, trackSecret } from '../helpers/secrets.js';
import { describeReal } from './tools/require-tool.js';
import { BAO_NEEDS, startDevServer, type BaoServer } from './openbao/bao-server.js';
import { cliEnv, startRun, startValues, starts, stopRun, waitForStarts, waitUntil, workspace, type Workspace } from './openbao/workspace.js';

// KV v1 and KV v2 on a real OpenBao dev server: a new version is seen at the
// next refresh and restarts the child once; unchanged refreshes never do; a
// soft-deleted or destroyed current version keeps the last good values (and
// says which version and what happened) until a good version is there again.

// A real server on a shared, loaded machine: generous limits; every wait is on an event.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

describeReal('OpenBao KV', BAO_NEEDS, () => {
  let bao: BaoServer;
  let token: string;

  beforeAll(async () => {
    bao = await startDevServer();
    await bao.bao(['secrets', 'enable', '-path=kv', '-version=1', 'kv']);
    await bao.bao(['policy', 'write', 'kv', '-'], { input: 'path "secret/data/*" { capabilities = ["read"] }\npath "kv/*" { capabilities = ["read"] }\n' });
    token = trackSecret((await bao.bao(['token', 'create', '-policy=kv', '-field=token'])).trim());
  }, 60_000);

  afterAll(async () => {
    await bao?.destroy();
  });

  let counter = 0;
  const uniquePath = () => `app/k${(counter += 1)}`;

  /** Reads of `apiPath` OpenBao answered, failed or not. */
  // OpenBao's audit log marks a 404 of a deleted version as no error: secretvisor's own log tells a failed read.
  const reads = (apiPath: string) => bao.audit.count({ path: apiPath, operation: 'read' });
  const failures = (cli: RunningCli) => logText(cli.stderr).split('keeping its last good secrets').length - 1;

  function run(apiPath: string): { ws: Workspace; cli: RunningCli } {
    const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: ${apiPath}\n    refresh: 300ms`);
    return { ws, cli: startRun(ws, cliEnv(ws, ['VALUE'], { VAULT_TOKEN: token })) };
  }

  async function waitForReads(cli: RunningCli, apiPath: string, more: number, what: string): Promise<void> {
    const target = reads(apiPath) + more;
    await waitUntil(() => reads(apiPath) >= target, what, 20_000, cli);
  }

  it('KV v1: a changed value restarts the child once at the next refresh; unchanged refreshes never do', async () => {
    const path = uniquePath();
    const [before, after] = [randomSecret('before'), randomSecret('after')];
    await bao.bao(['kv', 'put', `kv/${path}`, `VALUE=${before}`, 'OTHER=same']);
    const { ws, cli } = run(`kv/${path}`);
    await waitForStarts(cli, ws, 1);
    await waitForReads(cli, `kv/${path}`, 4, 'four unchanged refreshes');
    expect(starts(ws)).toBe(1);
    await bao.bao(['kv', 'put', `kv/${path}`, `VALUE=${after}`, 'OTHER=same']);
    await waitForStarts(cli, ws, 2, 'the restart with the new value');
    await waitForReads(cli, `kv/${path}`, 4, 'four more refreshes');
    expect(startValues(ws)).toEqual([{ VALUE: before }, { VALUE: after }]);
    expect(await stopRun(cli)).toBe(0);
  });

  it('KV v2: a new version with new values restarts once; a new version with the same values does not', async () => {
    const path = uniquePath();
    const apiPath = `secret/data/${path}`;
    const [before, after] = [randomSecret('before'), randomSecret('after')];
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${before}`]);
    const { ws, cli } = run(apiPath);
    await waitForStarts(cli, ws, 1);
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${after}`]);
    await waitForStarts(cli, ws, 2, 'the restart for version 2');
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${after}`]);
    await cli.waitFor((c) => c.stderr.includes('"version":"kv2:3:'), 'secretvisor to read version 3');
    await waitForReads(cli, apiPath, 3, 'three refreshes of version 3');
    expect(startValues(ws)).toEqual([{ VALUE: before }, { VALUE: after }]);
    expect(await stopRun(cli)).toBe(0);
  });

  it.each([
    ['soft-deleted', ['kv', 'delete'], /version 2 of the secret was deleted at \d{4}-/],
    ['destroyed', ['kv', 'destroy', '-versions=2'], /version 2 of the secret was destroyed/],
  ])('KV v2: a %s current version keeps the last good values and says so; the next version applies', async (_name, command, message) => {
    const path = uniquePath();
    const apiPath = `secret/data/${path}`;
    const [first, second, third] = [randomSecret('first'), randomSecret('second'), randomSecret('third')];
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${first}`]);
    const { ws, cli } = run(apiPath);
    await waitForStarts(cli, ws, 1);
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${second}`]);
    await waitForStarts(cli, ws, 2, 'the restart for version 2');
    await bao.bao([...command, `secret/${path}`]);
    await cli.waitFor((c) => message.test(logText(c.stderr)), `a log line matching ${message}`);
    await cli.waitFor((c) => failures(c) >= 2, 'two failed reads');
    expect(starts(ws)).toBe(2);
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${third}`]);
    await waitForStarts(cli, ws, 3, 'the restart for version 3');
    expect(startValues(ws)).toEqual([{ VALUE: first }, { VALUE: second }, { VALUE: third }]);
    expect(await stopRun(cli)).toBe(0);
  });

  it('KV v2: an undeleted version brings the same values back without a restart', async () => {
    const path = uniquePath();
    const apiPath = `secret/data/${path}`;
    const value = randomSecret('value');
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${value}`]);
    const { ws, cli } = run(apiPath);
    await waitForStarts(cli, ws, 1);
    await bao.bao(['kv', 'delete', `secret/${path}`]);
    await cli.waitFor((c) => failures(c) >= 2, 'two failed reads');
    await bao.bao(['kv', 'undelete', '-versions=1', `secret/${path}`]);
    await waitForReads(cli, apiPath, 2, 'two reads after the undelete');
    const failed = failures(cli);
    await waitForReads(cli, apiPath, 3, 'three more reads');
    expect(failures(cli)).toBe(failed);
    expect(starts(ws)).toBe(1);
    expect(await stopRun(cli)).toBe(0);
  });

  it('KV v2: a current version deleted before start-up: exit 66 at once naming the version and how to fix it', async () => {
    const path = uniquePath();
    await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${randomSecret('value')}`]);
    await bao.bao(['kv', 'delete', `secret/${path}`]);
    const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: secret/data/${path}`, { startupTimeout: '1s' });
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code).toBe(66);
    expect(logText(result.stderr)).toMatch(/read secret\/data\/app\/k\d+ at .* failed: 404 version 1 of the secret was deleted at/);
    expect(logText(result.stderr)).toContain('kv undelete');
  });
});
