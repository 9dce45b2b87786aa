import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { parseExposition, sampleValue, type Exposition } from '../helpers/prometheus-text.js';
import { expectNoLeak, randomSecret, trackSecret } from '../helpers/secrets.js';
import { describeReal } from './tools/require-tool.js';
import { BAO_NEEDS, startDevServer, type BaoServer } from './openbao/bao-server.js';
import { POSTGRES_NEEDS, enableDatabaseEngine, startPostgres, type Postgres } from './openbao/postgres.js';
import { freePort } from './openbao/process-tools.js';
import { cliEnv, startRun, stopRun, waitForStarts, waitUntil, workspace } from './openbao/workspace.js';

// The health listener on a real OpenBao: a KV v2 secret's age is its
// created_time, dynamic PostgreSQL credentials show their lease's seconds
// left, and when OpenBao goes away the KV source turns failing, then stale.

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

describeReal('health listener on a real OpenBao', { tools: { ...BAO_NEEDS.tools, ...POSTGRES_NEEDS }, install: `${BAO_NEEDS.install}; apt-get install postgresql` }, () => {
  let bao: BaoServer;
  let pg: Postgres;
  let token: string;

  beforeAll(async () => {
    [bao, pg] = await Promise.all([startDevServer(), startPostgres()]);
    await enableDatabaseEngine(bao, pg);
    const creation = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;
    await bao.bao(['write', 'database/roles/app', 'db_name=pg', `creation_statements=${creation}`, 'default_ttl=10m', 'max_ttl=1h']);
    const policy = ['path "database/creds/*" { capabilities = ["read"] }', 'path "secret/data/*" { capabilities = ["read"] }', 'path "sys/leases/*" { capabilities = ["update"] }'];
    await bao.bao(['policy', 'write', 'app', '-'], { input: `${policy.join('\n')}\n` });
    token = trackSecret((await bao.bao(['token', 'create', '-policy=app', '-ttl=30m', '-field=token'])).trim());
  }, 120_000);

  afterAll(async () => {
    await bao?.destroy();
    pg?.stop();
  });

  it('shows the KV secret age from created_time and the lease left on dynamic credentials; an outage turns the KV source stale', async () => {
    await bao.bao(['kv', 'put', 'secret/app/health', `API_KEY=${randomSecret('health-kv')}`]);
    const metadata = JSON.parse(await bao.bao(['kv', 'metadata', 'get', '-format=json', 'secret/app/health'])) as { data: { versions: Record<string, { created_time: string }> } };
    const createdAt = Date.parse(metadata.data.versions['1']?.created_time as string) / 1000;
    const port = await freePort();
    const ws = workspace(
      [
        '  kv:',
        '    type: vault',
        `    address: ${bao.address}`,
        '    path: secret/data/app/health',
        '    refresh: 1s',
        '  db:',
        '    type: vault',
        `    address: ${bao.address}`,
        '    path: database/creds/app',
        '    revokeOnExit: true',
      ].join('\n'),
      { extra: `metrics: { listen: "127.0.0.1:${port}" }\n` },
    );
    const cli = startRun(ws, cliEnv(ws, ['API_KEY', 'username', 'password'], { VAULT_TOKEN: token }));
    const bodies: string[] = [];
    const scrape = async (): Promise<Exposition> => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      bodies.push(body);
      return parseExposition(body);
    };
    await waitForStarts(cli, ws, 1);

    const first = await scrape();
    expect(sampleValue(first, 'secretvisor_secret_last_changed_timestamp_seconds', { source: 'kv' })).toBeCloseTo(createdAt, 0);
    expect(sampleValue(first, 'secretvisor_source_lease_remaining_seconds', { source: 'kv' })).toBeUndefined();
    const leaseLeft = sampleValue(first, 'secretvisor_source_lease_remaining_seconds', { source: 'db' }) as number;
    expect(leaseLeft).toBeGreaterThan(400);
    expect(leaseLeft).toBeLessThanOrEqual(600);
    expect(sampleValue(first, 'secretvisor_source_stale', { source: 'kv' })).toBe(0);
    const status = JSON.parse(await (await fetch(`http://127.0.0.1:${port}/status`)).text()) as {
      sources: { name: string; kind: string; leaseSecondsLeft: number | null; secretUpdatedAt: string | null }[];
    };
    expect(status.sources.map((source) => [source.name, source.kind])).toEqual([
      ['kv', 'vault'],
      ['db', 'vault'],
    ]);
    expect(status.sources[0]?.secretUpdatedAt).toBe(new Date(createdAt * 1000).toISOString());
    expect(status.sources[1]?.leaseSecondsLeft).toBeGreaterThan(400);

    await bao.stop();
    let stale: Exposition | undefined;
    await waitUntil(
      async () => {
        stale = await scrape();
        return sampleValue(stale, 'secretvisor_source_stale', { source: 'kv' }) === 1;
      },
      'the KV source to turn stale while OpenBao is down',
      60_000,
      cli,
    );
    expect(sampleValue(stale as Exposition, 'secretvisor_source_consecutive_failures', { source: 'kv' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(stale as Exposition, 'secretvisor_healthy')).toBe(0);
    // The credentials held are still valid: their lease runs on, reported as it is.
    expect(sampleValue(stale as Exposition, 'secretvisor_source_lease_remaining_seconds', { source: 'db' })).toBeGreaterThan(300);
    const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
    const reason = await healthz.text();
    bodies.push(reason);
    expect(healthz.status).toBe(503);
    expect(reason).toContain('source "kv" is stale');
    expect(await stopRun(cli)).toBe(0);
    expectNoLeak(bodies.join('\n'), 'the health listener');
  });
});
