import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES, readRecords, waitForRecords } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';

// Vault faults through the real CLI. At start-up every outage ends in exit 69
// within startup.timeout (a 403 or 404 exits at once: fail-fast.test.ts), naming the source and what Vault answered; during a
// run the child is left alone and the next good read applies. Sealed, 5xx and
// slow answers during a run, and an unreachable Vault at start-up, are proven
// in vault-cli.test.ts.

// Long enough for a first answer on a loaded machine (loading the client is part of the first read).
const STARTUP_TIMEOUT_MS = 3_000;

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

/** A project with one Vault KV v2 source holding `VALUE`; the default request timeout (10s) is longer than startup.timeout. */
function project(refresh = '5m'): { dir: string; config: string; records: string; path: string; env: NodeJS.ProcessEnv } {
  counter += 1;
  const path = `faults-${counter}`;
  vault.secrets.putKv2('secret', path, { VALUE: randomSecret('before') });
  const dir = tempDir('sv-vault-faults-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(
    config,
    `version: 1\nsources:\n  core: { type: vault, address: "${vault.address}", path: secret/data/${path}, refresh: ${refresh} }\nonChange: { debounce: 50ms, stopTimeout: 2s }\nstartup: { timeout: ${STARTUP_TIMEOUT_MS}ms }\n`,
  );
  const records = join(dir, 'records.jsonl');
  const env = baseEnv({ VAULT_TOKEN: vault.tokens.create({ id: randomSecret('token') }), SECRETVISOR_LOG_FORMAT: 'json', RECORD_FILE: records, RECORD_KEYS: 'VALUE' });
  return { dir, config, records, path, env };
}

const FAULTS: readonly [string, () => void, string][] = [
  ['sealed', () => (vault.faults.sealed = true), '503 Vault is sealed'],
  ['answering 500', () => (vault.faults.status = 500), '500'],
  ['answering 502', () => (vault.faults.status = 502), '502'],
  ['too slow to answer (30s, longer than every timeout)', () => (vault.faults.latencyMs = 30_000), 'no answer'],
  ['dropping connections', () => (vault.faults.resetConnections = true), 'socket hang up'],
];

describe('a Vault fault at start-up: exit 69 within startup.timeout, naming the source and the failure', () => {
  it.each(FAULTS)('%s', async (_name, inject, failure) => {
    const p = project();
    inject();
    const started = Date.now();
    const result = await runCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    const elapsed = Date.now() - started;
    expect(result.code, result.stderr).toBe(69);
    // Node's start-up and the last backoff step come on top of the timeout itself.
    expect(elapsed).toBeLessThan(STARTUP_TIMEOUT_MS + 2_500);
    const last = logText(result.stderr.trim().split('\n').at(-1) as string);
    expect(last).toContain('source "core" could not be reached at start-up within startup.timeout (3s)');
    expect(last).toContain(failure);
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(readRecords(p.records)).toEqual([]);
  });

  it('starts as soon as Vault is unsealed within startup.timeout', async () => {
    const p = project();
    vault.faults.sealed = true;
    const cli = startCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    await cli.waitForStderr('not reachable yet');
    vault.faults.clear();
    await waitForRecords(p.records, (lines) => lines.length === 1, 'the child to start');
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });
});

describe('a Vault fault during a run: the child keeps its secrets, and the next good read applies', () => {
  // A 403 is permanent (exit 77 at start-up, fail-fast.test.ts); while running it keeps the last good secrets like an outage.
  const POLICY_403: [string, () => void, string] = ['answering 403 (policy)', () => ((vault.faults.status = 403), (vault.faults.paths = ['secret/'])), '403'];
  it.each([POLICY_403, ...FAULTS.filter(([name]) => name.startsWith('dropping'))])('%s', async (_name, inject, failure) => {
    const p = project('200ms');
    const cli = startCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    const [first] = await waitForRecords(p.records, (lines) => lines.length === 1, 'the child to start');
    await cli.waitForStderr('watching sources for changes');
    inject();
    const after = randomSecret('after');
    vault.secrets.putKv2('secret', p.path, { VALUE: after });
    await cli.waitFor((c) => logText(c.stderr).includes(failure) && c.stderr.includes('keeping its last good secrets'), 'a failed read');
    const failed = cli.stderr.split('keeping its last good secrets').length;
    await cli.waitFor((c) => c.stderr.split('keeping its last good secrets').length > failed, 'a second failed read');
    expect(readRecords(p.records).map((line) => line.event)).toEqual(['start']);
    vault.faults.clear();
    const lines = await waitForRecords(p.records, (l) => l.some((line) => line.event === 'start' && line.values.VALUE === after), 'the restart after recovery');
    expect(lines.filter((line) => line.event === 'start').map((line) => line.values.VALUE)).toEqual([first?.values.VALUE, after]);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
  });
});
