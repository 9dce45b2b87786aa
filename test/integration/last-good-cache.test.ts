import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES, readRecords, waitForRecords } from '../helpers/project.js';
import { pollUntil } from '../helpers/poll-until.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';
import { parseExposition, sampleValue } from '../helpers/prometheus-text.js';
import { freePort } from '../real/openbao/process-tools.js';

let vault: VaultServer;

beforeAll(async () => {
  vault = await startVaultServer();
});

afterEach(async () => {
  vault.faults.clear();
});

afterAll(async () => {
  await vault.stop();
});

let counter = 0;

/** A project with one cached Vault source holding VALUE, its key file outside the cache folder. */
function project(maxAge = '24h'): { dir: string; config: string; records: string; path: string; value: string; env: NodeJS.ProcessEnv; cacheFile: string } {
  counter += 1;
  const path = `cached-${counter}`;
  const value = randomSecret('value');
  vault.secrets.putKv2('secret', path, { VALUE: value });
  const dir = tempDir('sv-cache-');
  writeFileSync(join(dir, 'cache.key'), randomBytes(32), { mode: 0o600 });
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(
    config,
    `version: 1
sources:
  core: { type: vault, address: "${vault.address}", path: secret/data/${path}, refresh: 200ms, cache: { maxAge: ${maxAge} } }
cache: { dir: state, keyFile: cache.key }
onChange: { debounce: 50ms, stopTimeout: 2s }
startup: { timeout: 2s }
`,
  );
  const records = join(dir, 'records.jsonl');
  const env = baseEnv({ VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }), RECORD_FILE: records, RECORD_KEYS: 'VALUE' });
  return { dir, config, records, path, value, env, cacheFile: join(dir, 'state', 'core.cache') };
}

type Project = ReturnType<typeof project>;

/** One run that reads Vault, starts the child, and stops: the cache now holds the value. */
async function primeCache(p: Project): Promise<void> {
  const cli = start(p);
  await waitForRecords(p.records, (lines) => lines.length === 1, 'the child to start');
  await cli.waitFor(() => existsSync(p.cacheFile), 'the cache file');
  cli.kill('SIGTERM');
  expect((await cli.exited()).code).toBe(0);
  writeFileSync(p.records, '');
}

function start(p: Project): RunningCli {
  return startCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
}

describe('last-good cache', () => {
  it('writes the values encrypted, 0600, after a good read: neither the value nor its base64 appears in the file', async () => {
    const p = project();
    await primeCache(p);
    expect(statSync(p.cacheFile).mode & 0o777).toBe(0o600);
    const raw = readFileSync(p.cacheFile);
    for (const form of [p.value, Buffer.from(p.value).toString('base64'), Buffer.from(p.value).toString('hex')]) expect(raw.includes(form)).toBe(false);
  });

  it('starts from the cache when Vault is unreachable, says so with the age, and applies fresh values once Vault answers', async () => {
    const p = project();
    await primeCache(p);
    vault.faults.resetConnections = true;
    const cli = start(p);
    const [first] = await waitForRecords(p.records, (lines) => lines.length === 1, 'the child to start from the cache');
    expect(first?.values.VALUE).toBe(p.value);
    expect(logText(cli.stderr)).toMatch(/source "core" is unreachable [\s\S]*; starting from its cache, saved \d+s ago; retrying in the background/);
    const next = randomSecret('fresh');
    vault.secrets.putKv2('secret', p.path, { VALUE: next });
    vault.faults.clear();
    await waitForRecords(p.records, (lines) => lines.some((line) => line.event === 'start' && line.values.VALUE === next), 'a child with the fresh value');
  });

  it('the health listener and secretvisor status show the values from the cache and their age, until Vault answers', async () => {
    const p = project();
    await primeCache(p);
    const port = await freePort();
    writeFileSync(p.config, `${readFileSync(p.config, 'utf8')}metrics: { listen: "127.0.0.1:${port}" }\n`);
    vault.faults.resetConnections = true;
    const cli = start(p);
    await waitForRecords(p.records, (lines) => lines.length === 1, 'the child to start from the cache');
    const metrics = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    expect(sampleValue(metrics, 'secretvisor_source_from_cache', { source: 'core' })).toBe(1);
    expect(sampleValue(metrics, 'secretvisor_source_cache_age_seconds', { source: 'core' })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(metrics, 'secretvisor_source_stale', { source: 'core' })).toBe(1);
    const status = await runCli(['status', '-c', p.config], { cwd: p.dir, env: p.env });
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^ {2}- source "core" is stale: the child runs on its cached values, saved \d+s ago$/m);
    expect(status.stdout).toMatch(/^core +vault +stale +- +\d+ +.* saved \S+ ago +/m);
    vault.faults.clear();
    let fresh = metrics;
    await pollUntil(
      async () => {
        fresh = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
        return sampleValue(fresh, 'secretvisor_source_from_cache', { source: 'core' }) === 0;
      },
      'the source to be read from Vault again',
      { timeoutMs: 20_000, intervalMs: 100, detail: () => `last scrape: from_cache ${sampleValue(fresh, 'secretvisor_source_from_cache', { source: 'core' })}\nstderr:\n${cli.stderr}` },
    );
    expect(sampleValue(fresh, 'secretvisor_source_from_cache', { source: 'core' })).toBe(0);
    expect(sampleValue(fresh, 'secretvisor_source_stale', { source: 'core' })).toBe(0);
    expect((await runCli(['status', '-c', p.config], { cwd: p.dir, env: p.env })).code).toBe(0);
  });

  it('check says which values come from the cache, and how old they are', async () => {
    const p = project();
    await primeCache(p);
    vault.faults.resetConnections = true;
    const result = await runCli(['check', '-c', p.config], { cwd: p.dir, env: p.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^source core: unreachable; its 1 values come from its cache, saved \d+s ago/m);
    expect(result.stdout).toMatch(/^VALUE\s+core/m);
  });

  it('does not use a cache entry older than maxAge', async () => {
    const p = project();
    await primeCache(p);
    writeFileSync(p.config, readFileSync(p.config, 'utf8').replace('maxAge: 24h', 'maxAge: 1ms'));
    vault.faults.resetConnections = true;
    const result = await runCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    expect(result.code).toBe(69);
    expect(logText(result.stderr)).toContain('older than cache.maxAge: not used');
    expect(readRecords(p.records)).toEqual([]);
  });

  it('deletes the entry when Vault denies the read (403), and does not start from it', async () => {
    const p = project();
    await primeCache(p);
    vault.faults.status = 403;
    vault.faults.paths = ['secret/'];
    const result = await runCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    // A denial is final at start-up: 77 at once (fail fast), and the cache is never a way around it.
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toContain('its cache entry is deleted');
    expect(existsSync(p.cacheFile)).toBe(false);
    expect(readRecords(p.records)).toEqual([]);
  });

  it('refuses a key file others may read (exit 77)', async () => {
    const p = project();
    chmodSync(join(p.dir, 'cache.key'), 0o644);
    const result = await runCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    expect(result.code).toBe(77);
    expect(logText(result.stderr)).toContain('cache: the key');
  });
});
