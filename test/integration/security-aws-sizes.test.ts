import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES, readRecords, waitForRecords } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { startAwsServer, type AwsServer } from '../servers/aws-server.js';
import { awsSdkEnv } from '../servers/aws/sdk-env.js';

// Issue #13 item 5: AWS answers were buffered whole, so a 400 MB answer from
// a hostile or broken endpoint grew secretvisor by more than that. Now a
// Secrets Manager or Parameter Store answer past `maxResponseSize` (default
// 1MiB) is refused with exit 65 (a data error) as soon as its size is known,
// and the rest of it is never read.

const KEY_ID = randomSecret('AKIASIZES');
const SECRET_KEY = randomSecret('sizes-secret-key');
const HUGE = 400 * 1024 * 1024;
// Node with the AWS SDK loaded runs at about 100 MB here; buffering the 400 MB answer would pass 400 MB.
const PEAK_RSS_BOUND_KIB = 250 * 1024;

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

function project(source: string): { dir: string; config: string; records: string; env: NodeJS.ProcessEnv } {
  counter += 1;
  const dir = tempDir('sv-aws-sizes-');
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(config, `version: 1\nsources:\n  big: ${source}\nonChange: { debounce: 50ms, stopTimeout: 2s }\nstartup: { timeout: 5s }\n`);
  const records = join(dir, 'records.jsonl');
  const env = baseEnv({
    ...awsSdkEnv({ accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, ssmEndpoint: server.endpoint }),
    SECRETVISOR_LOG_FORMAT: 'json',
    RECORD_FILE: records,
    RECORD_KEYS: 'VALUE',
  });
  return { dir, config, records, env };
}

function secretsManager(extra = ''): { p: ReturnType<typeof project>; secretId: string } {
  const secretId = `noxus/sizes-${counter + 1}`;
  server.secrets.put(secretId, { VALUE: randomSecret('small') });
  const p = project(`{ type: aws-secrets-manager, region: eu-central-1, endpoint: "${server.endpoint}", secretId: ${secretId}${extra} }`);
  return { p, secretId };
}

/** The peak resident set of a live process, in KiB, as the kernel counts it. */
function peakRssKib(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(match[1]);
}

describe('an AWS answer over maxResponseSize', () => {
  it('at start-up (Content-Length declared): check exits 65 naming the source, the call and the cap', async () => {
    const { p, secretId } = secretsManager();
    server.faults.inject({ kind: 'oversized', action: 'GetSecretValue', bytes: HUGE, declareLength: true });
    const result = await runCli(['check', '-c', p.config], { cwd: p.dir, env: p.env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(65);
    const text = logText(result.stderr);
    expect(text).toContain(`aws-secrets-manager source "big": AWS's answer to GetSecretValue for secret "${secretId}" is larger than 1MiB; it was cut off unread`);
    expect(text).toContain('raise maxResponseSize on this source');
  }, 90_000);

  it('Parameter Store too (streamed, no Content-Length): check exits 65 naming the aws-ssm source', async () => {
    const p = project(`{ type: aws-ssm, region: eu-central-1, path: /noxus/big/ }`);
    server.faults.inject({ kind: 'oversized', action: 'GetParametersByPath', bytes: HUGE });
    const result = await runCli(['check', '-c', p.config], { cwd: p.dir, env: p.env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(65);
    expect(logText(result.stderr)).toContain(`aws-ssm source "big": AWS's answer to GetParametersByPath for parameters "/noxus/big" is larger than 1MiB; it was cut off unread`);
  }, 90_000);

  it('a raised maxResponseSize takes an answer under it, and still refuses one over it', async () => {
    const { p } = secretsManager(', key: VALUE, maxResponseSize: 4MiB, asEnv: false');
    server.faults.inject({ kind: 'oversized', action: 'GetSecretValue', bytes: 2 * 1024 * 1024, times: 1 });
    const taken = await runCli(['check', '-c', p.config], { cwd: p.dir, env: p.env, timeoutMs: 60_000 });
    expect(taken.code, taken.stderr).toBe(0);
    server.faults.inject({ kind: 'oversized', action: 'GetSecretValue', bytes: 5 * 1024 * 1024, times: 1 });
    const refused = await runCli(['check', '-c', p.config], { cwd: p.dir, env: p.env, timeoutMs: 60_000 });
    expect(refused.code, refused.stderr).toBe(65);
    expect(logText(refused.stderr)).toContain('is larger than 4MiB');
  }, 90_000);

  it('a bad maxResponseSize is a config error with the path and the valid form', async () => {
    const { p } = secretsManager(', maxResponseSize: lots');
    const result = await runCli(['check', '-c', p.config], { cwd: p.dir, env: p.env });
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain('sources.big.maxResponseSize');
    expect(logText(result.stderr)).toContain('expected a size such as 512KiB, 1MiB or 16MiB');
  });

  it('during a run, a 400 MB streamed answer is refused without buffering it: peak RSS stays bounded and the child keeps its secrets', async () => {
    const { p, secretId } = secretsManager(', refresh: 1s');
    const cli = startCli(['run', '-c', p.config, '--', process.execPath, FIXTURES.recordEnv], { cwd: p.dir, env: p.env });
    await waitForRecords(p.records, (records) => records.length === 1, 'the first child');
    server.secrets.put(secretId, { VALUE: randomSecret('rotated') });
    server.faults.inject({ kind: 'oversized', action: 'GetSecretValue', bytes: HUGE });
    await cli.waitFor((c) => logText(c.stderr).includes('is larger than 1MiB; it was cut off unread'), 'the refusal of the oversized answer', 60_000);
    const peak = peakRssKib(cli.pid);
    expect(peak).toBeLessThan(PEAK_RSS_BOUND_KIB);
    expect(cli.hasExited).toBe(false);
    expect(readRecords(p.records)).toHaveLength(1);
    console.log(`secretvisor peak RSS (VmHWM) after refusing a 400 MB AWS answer: ${Math.round(peak / 1024)} MB`);
    cli.kill('SIGTERM');
    await cli.exited();
  }, 120_000);
});
