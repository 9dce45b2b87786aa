import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES, readRecords, waitForRecords } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { startAwsServer, type AwsFaultKind, type AwsServer } from '../servers/aws-server.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';

// AWS Secrets Manager faults through the real CLI. At start-up every outage
// ends in exit 69 within startup.timeout (access denied and an unknown secret
// exit at once: fail-fast.test.ts), naming the source and the AWS error
// code; during a run the child is left alone and the next good read applies.
// Throttling, 5xx and dropped connections during a run, a wrong ExternalId and
// an unreachable endpoint at start-up are proven in aws-cli.test.ts.

// Long enough for a first answer on a loaded machine (loading the client is part of the first read).
const STARTUP_TIMEOUT_MS = 3_000;
const KEY_ID = randomSecret('AKIAFAULTS');
const SECRET_KEY = randomSecret('faults-secret-key');

let server: AwsServer;

beforeAll(async () => {
  server = await startAwsServer({ users: [{ name: 'host', accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, secrets: '*' }] });
});

afterEach(async () => {
  server.faults.clear();
});

afterAll(async () => {
  await server.stop();
});

let counter = 0;

/** A project with one AWS source holding `VALUE`. */
function project(refresh = '5m'): { dir: string; config: string; records: string; secretId: string; env: NodeJS.ProcessEnv } {
  counter += 1;
  const secretId = `noxus/faults-${counter}`;
  server.secrets.put(secretId, { VALUE: randomSecret('before') });
  const dir = tempDir('sv-aws-faults-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(
    config,
    `version: 1\nsources:\n  core: { type: aws-secrets-manager, region: eu-central-1, endpoint: "${server.endpoint}", secretId: ${secretId}, refresh: ${refresh} }\nonChange: { debounce: 50ms, stopTimeout: 2s }\nstartup: { timeout: ${STARTUP_TIMEOUT_MS}ms }\n`,
  );
  const records = join(dir, 'records.jsonl');
  const env = baseEnv({
    ...awsSdkEnv({ accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY }),
    SECRETVISOR_LOG_FORMAT: 'json',
    RECORD_FILE: records,
    RECORD_KEYS: 'VALUE',
  });
  return { dir, config, records, secretId, env };
}

const FAULTS: readonly [string, AwsFaultKind, string][] = [
  ['throttling', 'throttle', 'ThrottlingException'],
  ['expired credentials', 'expiredToken', 'ExpiredTokenException'],
  ['service unavailable', 'unavailable', 'ServiceUnavailable'],
  ['too slow to answer (30s, longer than the SDK timeout)', 'latency', 'no answer'],
];

describe('an AWS fault at start-up: exit 69 within startup.timeout, naming the source and the AWS error', () => {
  it.each(FAULTS)('%s', async (_name, kind, code) => {
    const p = project();
    server.faults.inject({ kind, delayMs: 30_000 });
    const started = Date.now();
    const result = await runCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    const elapsed = Date.now() - started;
    expect(result.code, result.stderr).toBe(69);
    // Node's start-up, loading the SDK and the last backoff step come on top of the timeout itself.
    expect(elapsed).toBeLessThan(STARTUP_TIMEOUT_MS + 3_000);
    const last = logText(result.stderr.trim().split('\n').at(-1) as string);
    expect(last).toContain('source "core" could not be reached at start-up within startup.timeout (3s)');
    expect(last).toContain(code);
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(result.stderr).not.toContain(KEY_ID);
    expect(readRecords(p.records)).toEqual([]);
  });
});

describe('an AWS fault during a run: the child keeps its secrets, and the next good read applies', () => {
  // Access denied is permanent (exit 77 at start-up, fail-fast.test.ts); while running it keeps the last good secrets like an outage.
  const ACCESS_DENIED: [string, AwsFaultKind, string] = ['access denied', 'accessDenied', 'AccessDeniedException'];
  it.each([ACCESS_DENIED, ...FAULTS.filter(([, kind]) => kind === 'expiredToken')])('%s', async (_name, kind, code) => {
    const p = project('200ms');
    const cli = startCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    const [first] = await waitForRecords(p.records, (lines) => lines.length === 1, 'the child to start');
    await cli.waitForStderr('watching sources for changes');
    server.faults.inject({ kind });
    const after = randomSecret('after');
    server.secrets.put(p.secretId, { VALUE: after });
    await cli.waitForStderr(code);
    const failed = server.requestLog.count('DescribeSecret', { ok: false });
    await cli.waitFor(() => server.requestLog.count('DescribeSecret', { ok: false }) >= failed + 3, 'more failed refreshes');
    expect(readRecords(p.records).map((line) => line.event)).toEqual(['start']);
    server.faults.clear();
    const lines = await waitForRecords(p.records, (l) => l.some((line) => line.event === 'start' && line.values.VALUE === after), 'the restart after recovery');
    expect(lines.filter((line) => line.event === 'start').map((line) => line.values.VALUE)).toEqual([first?.values.VALUE, after]);
    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(readFileSync(p.records, 'utf8')).not.toContain(SECRET_KEY);
  });
});
