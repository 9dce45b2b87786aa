import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, RunningCli, baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES, makeProject, waitForRecords } from '../helpers/project.js';
import { expectNoLeak, randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';

// Item 2 of issue 17 through the real CLI: every decision in the log once,
// at the right level, in words an operator can act on.

const REQUIRED = 'version: 1\nsources:\n  app: { type: dotenv, path: app.env, required: [TOKEN] }\nonChange: { debounce: 50ms, stopTimeout: 2s }\n';

describe('a rejected change', () => {
  it('is logged once, though the watch event and the settle check after it both read it', async () => {
    const first = randomSecret('first');
    const dir = makeProject({ 'secretvisor.yaml': REQUIRED, 'app.env': `TOKEN=${first}\n` });
    const records = join(dir, 'records.jsonl');
    const cli = new RunningCli(
      spawn(process.execPath, [CLI, 'run', '--', process.execPath, FIXTURES.recordEnv], {
        cwd: dir,
        env: baseEnv({ RECORD_FILE: records, RECORD_KEYS: 'TOKEN', SECRETVISOR_LOG_FORMAT: 'json', SECRETVISOR_LOG_LEVEL: 'debug' }),
      }),
    );
    try {
      await cli.waitForStderr('watching sources for changes');
      writeSecretFile(join(dir, 'app.env'), `OTHER=${randomSecret('other')}\n`);
      await cli.waitForStderr('rejected');
      // The settle check re-reads the same content shortly after; it is recognised, at debug level only.
      await cli.waitForStderr('the re-read holds the content rejected before');
      const next = randomSecret('next');
      writeSecretFile(join(dir, 'app.env'), `TOKEN=${next}\n`);
      await waitForRecords(records, (lines) => lines.some((line) => line.values.TOKEN === next), 'the restart with the good value');
      const rejections = cli.stderr.split('\n').filter((line) => line.includes('rejected: source'));
      expect(rejections, cli.stderr).toHaveLength(1);
      expect(JSON.parse(rejections[0] as string)).toMatchObject({ level: 50 });
    } finally {
      cli.kill('SIGTERM');
      await cli.exited();
    }
  });
});

describe('the start-up log', () => {
  it("counts the child's environment as sent", async () => {
    const dir = makeProject({ 'secretvisor.yaml': REQUIRED, 'app.env': `TOKEN=${randomSecret('token')}\nB=${randomSecret('b')}\n` });
    const out = join(dir, 'env.json');
    const result = await runCli(['run', '--once', '--', process.execPath, FIXTURES.printEnv, out], { cwd: dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', EXTRA: 'x' }) });
    expect(result.code, result.stderr).toBe(0);
    const started = result.stderr.split('\n').find((line) => line.includes('"reason":"initial"')) as string;
    const sent = Object.keys(JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>);
    expect((JSON.parse(started) as { envVars: number }).envVars).toBe(sent.length);
  });
});

describe('journald: with stderr the journal (JOURNAL_STREAM names it)', () => {
  /** Runs secretvisor with stderr a file and JOURNAL_STREAM naming `journal` (that file, or another). */
  async function runWithJournal(journal: 'stderr' | 'elsewhere'): Promise<string[]> {
    const dir = makeProject({ 'secretvisor.yaml': REQUIRED.replace('required: [TOKEN] ', ''), 'app.env': `TOKEN=${randomSecret('token')}\n` });
    const path = join(tempDir(), 'stderr.log');
    const fd = openSync(path, 'w');
    const other = openSync(join(dir, 'other'), 'w');
    const stats = fstatSync(journal === 'stderr' ? fd : other);
    closeSync(other);
    const child = spawn(process.execPath, [CLI, 'run', '--once', '--log-level', 'debug', '--', process.execPath, '-e', 'console.error("child says hi")'], {
      cwd: dir,
      env: baseEnv({ JOURNAL_STREAM: `${stats.dev}:${stats.ino}` }),
      stdio: ['ignore', 'ignore', fd],
    });
    const [code] = (await once(child, 'close')) as [number];
    closeSync(fd);
    expect(code).toBe(0);
    const text = readFileSync(path, 'utf8');
    expectNoLeak(text, 'journal');
    return text.trim().split('\n');
  }

  it("prefixes each of secretvisor's lines with its syslog priority and leaves the child's output untouched", async () => {
    const lines = await runWithJournal('stderr');
    expect(lines).toContain('child says hi');
    const own = lines.filter((line) => line !== 'child says hi');
    expect(own.length).toBeGreaterThanOrEqual(2);
    for (const line of own) {
      const match = /^<(\d)>(\{.*\})$/.exec(line);
      expect(match, line).not.toBeNull();
      const level = (JSON.parse(match?.[2] as string) as { level: number }).level;
      expect(Number(match?.[1])).toBe({ 20: 7, 30: 6, 40: 4, 50: 3 }[level]);
    }
    expect(own.some((line) => line.startsWith('<6>'))).toBe(true);
  });

  it('adds no prefix when JOURNAL_STREAM names another stream (inherited, stderr redirected)', async () => {
    const lines = await runWithJournal('elsewhere');
    expect(lines.filter((line) => line !== 'child says hi').every((line) => line.startsWith('{'))).toBe(true);
  });
});

describe('config mistakes an operator makes', () => {
  it.each([
    [
      'type: dontenv',
      '  a: { type: dontenv, path: x.env }',
      'sources.a.type: unknown type "dontenv"; expected one of "dotenv", "directory", "vault", "aws-secrets-manager", "aws-ssm" (did you mean "dotenv"?)',
    ],
    [
      'method: aprole',
      '  v: { type: vault, address: "http://127.0.0.1:1", path: secret/data/x, auth: { method: aprole } }',
      'sources.v.auth.method: unknown method "aprole"; expected one of "token", "approle", "kubernetes", "aws", "jwt" (did you mean "approle"?)',
    ],
  ])('an unknown %s names the values that exist, at its path', async (_name, source, message) => {
    const dir = makeProject({ 'secretvisor.yaml': `version: 1\nsources:\n${source}\n` });
    const result = await runCli(['check'], { cwd: dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }) });
    expect(result.code).toBe(78);
    expect(logText(result.stderr)).toContain(message);
    expect(result.stderr).not.toContain('type.type');
  });

  it('zero-config with a 0644 .env: the fix is the chmod, not a permissions: setting there is no config for', async () => {
    const dir = tempDir('sv-zero-');
    writeSecretFile(join(dir, '.env'), `TOKEN=${randomSecret('zero')}\n`, 0o644);
    const result = await runCli(['run', '--', '/bin/true'], { cwd: dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }) });
    expect(result.code).toBe(77);
    const last = JSON.parse(result.stderr.trim().split('\n').at(-1) as string) as { fix: string };
    expect(last.fix).toBe(`chmod 0600 '${join(dir, '.env')}'`);
    expect(result.stderr).not.toContain('permissions:');
  });
});
