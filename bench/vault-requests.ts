import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeVault from 'node-vault';
import { systemClock } from '../src/clock.js';
import { silentLogger } from '../src/log.js';
import { createVaultSource } from '../src/sources/vault/vault-source.js';
import type { SecretSource } from '../src/sources/source.js';
import { startVaultServer, type VaultServer } from '../test/servers/vault-server.js';
import { vaultSourceConfig } from '../test/servers/vault/fixtures.js';
import type { BenchRow } from './bench-row.js';

const KV_SOURCES = 20;
const REFRESH_CYCLES = 5;

interface Phase {
  readonly requests: number;
  readonly logins: number;
  readonly reads: number;
}

/**
 * Requests secretvisor makes to Vault for {@link KV_SOURCES} unchanged KV v2
 * secrets and one dynamic database secret, all sharing one AppRole: the
 * first read, then {@link REFRESH_CYCLES} refresh cycles, with the real
 * node-vault client against the loopback test server. The baseline,
 * measured in the same run, is the naive script per secret: log in, read.
 * Target: one read per KV source per refresh, and none for a dynamic
 * secret whose lease is still good.
 */
export async function measureVaultRequests(): Promise<BenchRow[]> {
  const server = await startVaultServer();
  const roleId = randomBytes(16).toString('hex');
  const secretId = randomBytes(16).toString('hex');
  server.tokens.addAppRole({ roleId, secretId, tokenTtl: 3600 });
  server.secrets.addDatabaseRole({ role: 'app', ttl: 3600 });
  const paths = Array.from({ length: KV_SOURCES }, (_, index) => `bench/secret-${index}`);
  for (const path of paths) server.secrets.putKv2('secret', path, { TOKEN: randomBytes(16).toString('hex'), USER: 'bench' });
  const dir = await mkdtemp(join(tmpdir(), 'sv-bench-vault-'));
  const secretIdFile = join(dir, 'secret-id');
  await writeFile(secretIdFile, `${secretId}\n`, { mode: 0o600 });
  const auth = { method: 'approle', roleId, secretIdFile } as const;
  const open = (name: string, path: string): SecretSource =>
    createVaultSource({
      config: vaultSourceConfig({ name, address: server.address, path, auth }),
      log: silentLogger(),
      clock: systemClock,
      env: {},
      service: 'bench',
      pool: undefined,
    });
  const kvSources = paths.map((path, index) => open(`kv${index}`, `secret/data/${path}`));
  const dynamic = open('db', 'database/creds/app');
  try {
    const first = await measure(server, () => readAll([...kvSources, dynamic]));
    const kvCycles = await measure(server, () => cycles(kvSources));
    const dynamicCycles = await measure(server, () => cycles([dynamic]));
    const baseline = await measure(server, () => naiveCycles(server.address, roleId, secretId, paths));
    return rows(first, perCycle(kvCycles), perCycle(dynamicCycles), perCycle(baseline));
  } finally {
    await Promise.all([...kvSources, dynamic].map((source) => source.close()));
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function rows(first: Phase, kv: Phase, dynamic: Phase, baseline: Phase): BenchRow[] {
  const perSource = kv.requests / KV_SOURCES;
  return [
    {
      figure: `Vault requests per refresh cycle per source, ${KV_SOURCES} unchanged KV v2 secrets`,
      value: `${format(perSource)} (${format(kv.reads)} reads, ${format(kv.logins)} logins per cycle)`,
      baseline: `${format(baseline.requests / KV_SOURCES)} (log in, then read, per secret)`,
      ratio: ratio(perSource, baseline.requests / KV_SOURCES),
      target: '1 read per source per refresh',
      met: kv.reads === KV_SOURCES && kv.requests === KV_SOURCES,
    },
    {
      figure: 'Vault requests per refresh cycle, a dynamic secret with a live lease',
      value: `${format(dynamic.requests)}`,
      baseline: '1 (and a new database user each time)',
      ratio: ratio(dynamic.requests, 1),
      target: '0 (renewed or re-issued on the lease schedule only)',
      met: dynamic.requests === 0,
    },
    {
      figure: `Vault logins at start-up, ${KV_SOURCES + 1} sources with the same AppRole`,
      value: `${first.logins} (${first.requests} requests in all)`,
      baseline: `${KV_SOURCES + 1} (one per source)`,
      ratio: ratio(first.logins, KV_SOURCES + 1),
      target: '1 shared token',
      met: first.logins === 1,
    },
  ];
}

async function readAll(sources: readonly SecretSource[]): Promise<void> {
  await Promise.all(sources.map((source) => source.read(new AbortController().signal)));
}

async function cycles(sources: readonly SecretSource[]): Promise<void> {
  for (let cycle = 0; cycle < REFRESH_CYCLES; cycle++) await readAll(sources);
}

async function naiveCycles(address: string, roleId: string, secretId: string, paths: readonly string[]): Promise<void> {
  for (let cycle = 0; cycle < REFRESH_CYCLES; cycle++) {
    await Promise.all(
      paths.map(async (path) => {
        const client = nodeVault({ endpoint: address, debug: () => undefined });
        await client.approleLogin({ role_id: roleId, secret_id: secretId });
        await client.read(`secret/data/${path}`);
      }),
    );
  }
}

async function measure(server: VaultServer, run: () => Promise<void>): Promise<Phase> {
  server.requestLog.clear();
  await run();
  return {
    requests: server.requestLog.count(),
    logins: server.requestLog.count({ path: 'auth/approle/login' }),
    reads: server.requestLog.count({ path: 'secret/data/*', method: 'GET' }),
  };
}

function perCycle(phase: Phase): Phase {
  return { requests: phase.requests / REFRESH_CYCLES, logins: phase.logins / REFRESH_CYCLES, reads: phase.reads / REFRESH_CYCLES };
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function ratio(value: number, baseline: number): string {
  return baseline === 0 ? '—' : `${(value / baseline).toFixed(2)}×`;
}
