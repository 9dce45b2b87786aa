import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, runCli, type CliResult } from '../helpers/cli.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';

// Issue #13 item 5: `audit` reported a source whose data `check` refuses
// (exit 65) as fine and exited 0. It now reads each sound source once, as
// `check` does, and reports bad data as a `data` finding with exit 65, the
// file and the key or line.

interface Project {
  readonly dir: string;
  readonly config: string;
  readonly envFile: string;
}

function project(content: string): Project {
  const dir = tempDir('sv-audit-data-');
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { mode: 0o700 });
  const envFile = writeSecretFile(join(secrets, 'app.env'), `GOOD=${randomSecret('good')}\n${content}\n`);
  const config = join(dir, 'secretvisor.yaml');
  writeFileSync(config, 'version: 1\nsources:\n  app: { type: dotenv, path: secrets/app.env }\n');
  return { dir, config, envFile };
}

function cli(p: Project, args: readonly string[]): Promise<CliResult> {
  return runCli([...args, '-c', p.config], { cwd: p.dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }) });
}

interface JsonReport {
  readonly items: { source: string | null; location: string; status: string }[];
  readonly findings: { kind: string; source: string | null; path: string | null; problem: string; fix: string; exitCode?: number }[];
  readonly summary: { exitCode: number; data: number; line: string };
}

const BAD_DATA: readonly [string, string, string][] = [
  ['a line that is not KEY=value', 'A SECRET', 'line 2 is not KEY=value'],
  ['an unterminated quote', "TOKEN='never closed", 'the quoted value of TOKEN (line 2) is never closed'],
  ['a refused name', 'LD_PRELOAD=', 'key LD_PRELOAD changes how programs load code and is refused from secret sources'],
  ['a key that is no env name', 'BAD-NAME=x', 'key "BAD-NAME" is not a valid env name (BAD-NAME)'],
];

describe('secretvisor audit: data that check refuses', () => {
  it.each(BAD_DATA)('%s: audit exits 65 like check, naming the source, the file and the problem', async (_name, line, problem) => {
    const p = project(line);
    const checked = await cli(p, ['check']);
    expect(checked.code, checked.stderr).toBe(65);
    const result = await cli(p, ['audit', '--format', 'json']);
    expect(result.code, result.stderr).toBe(65);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'data', source: 'app', path: p.envFile, exitCode: 65 })]);
    expect(report.findings[0]?.problem).toContain(problem);
    expect(report.findings[0]?.fix).not.toBe('');
    expect(report.items.find((item) => item.location === p.envFile)?.status).toBe('bad data');
    expect(report.summary).toMatchObject({ exitCode: 65, data: 1 });
  });

  it('the table names the finding, its fix and the exit code', async () => {
    const p = project('A SECRET');
    const result = await cli(p, ['audit']);
    expect(result.code).toBe(65);
    expect(result.stdout).toContain(`[data] source app: source "app" (${p.envFile}): line 2 is not KEY=value`);
    expect(result.stdout).toContain('fix: fix the line, or quote a value that spans several lines');
    expect(result.stdout).toMatch(/^needs attention: .*; 0 permission, 0 too old, 0 unreadable, 1 bad data \(exit 65\)$/m);
  });

  it('a directory source with a key file that is no env name: 65 naming the key', async () => {
    const dir = tempDir('sv-audit-data-');
    const keys = join(dir, 'keys');
    mkdirSync(keys, { mode: 0o700 });
    writeSecretFile(join(keys, 'API_KEY'), randomSecret('api-key'));
    writeSecretFile(join(keys, 'bad name'), randomSecret('bad-name'));
    const config = join(dir, 'secretvisor.yaml');
    writeFileSync(config, 'version: 1\nsources:\n  keys: { type: directory, path: keys }\n');
    const result = await runCli(['audit', '--format', 'json', '-c', config], { cwd: dir, env: baseEnv() });
    expect(result.code, result.stderr).toBe(65);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'data', source: 'keys', exitCode: 65 })]);
    expect(report.findings[0]?.problem).toContain('key "bad name" is not a valid env name');
    expect(report.items.every((item) => item.status === 'bad data')).toBe(true);
  });

  it('sound data still audits clean: exit 0', async () => {
    const p = project(`OTHER=${randomSecret('other')}`);
    const result = await cli(p, ['audit']);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('nothing needs attention');
  });
});
