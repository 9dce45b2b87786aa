import { lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli, type CliResult } from '../helpers/cli.js';
import { FIXTURES, readRecords, waitForRecords } from '../helpers/project.js';
import { expectNoLeak, issuedSecrets, randomSecret } from '../helpers/secrets.js';
import { freePort } from '../real/openbao/process-tools.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';

// One realistic supervised run — file sources, env templates, a file output,
// rotations, reloads refused for bad values, check/env/audit beside it, all at
// log level trace — then a search for every secret issued in it through
// everything secretvisor wrote: stdout, stderr, files outside its runtime
// folder, and the command lines of secretvisor and of the child.

const CONFIG = `version: 1
sources:
  platform: { type: dotenv, path: platform.env, required: [DB_PASSWORD] }
  creds: { type: directory, path: creds, asEnv: false }
env:
  DATABASE_URL: "postgres://app:{{secret.DB_PASSWORD}}@db:5432/app"
files:
  - path: api-keys
    template: "{{secret.api_key}}\\n"
    env: API_KEYS_PATH
onChange: { debounce: 50ms, stopTimeout: 2s }
`;

const MAX_SCANNED_BYTES = 16 * 1024 * 1024;

/** Regular files under `dir` (to `depth` folders down), skipping `skip`; FIFOs, sockets and huge files are not read. */
function filesUnder(dir: string, skip: ReadonlySet<string>, depth = 4): string[] {
  if (depth < 0 || skip.has(dir)) return [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (skip.has(path)) return [];
    if (entry.isDirectory()) return filesUnder(path, skip, depth - 1);
    return entry.isFile() && lstatSync(path).size <= MAX_SCANNED_BYTES ? [path] : [];
  });
}

/** Path → mtime of the files in the temp dir, to find the ones made or changed during the run. */
function tempFiles(skip: ReadonlySet<string>): Map<string, number> {
  return new Map(
    filesUnder(tmpdir(), skip, 2).flatMap((path) => {
      try {
        return [[path, statSync(path).mtimeMs] as const];
      } catch {
        return [];
      }
    }),
  );
}

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

describe('leak proof: no secret reaches anything secretvisor writes', () => {
  it('a whole supervised life at log level trace: rotations, refused reloads, check, env, audit, status and the health listener', async () => {
    const dir = tempDir('sv-leak-');
    const runtime = join(dir, 'runtime');
    const home = join(dir, 'home');
    mkdirSync(runtime, { mode: 0o700 });
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(join(dir, 'creds'), { mode: 0o700 });
    const port = await freePort();
    writeFileSync(join(dir, 'secretvisor.yaml'), `${CONFIG}metrics: { listen: "127.0.0.1:${port}" }\n`);
    const records = join(dir, 'records.jsonl');
    const ours = new Set([join(dir, 'platform.env'), join(dir, 'creds'), records]);
    const writePlatform = (text: string): void => void writeSecretFile(join(dir, 'platform.env'), text);
    const writeKey = (value: string, mode = 0o600): void => void writeSecretFile(join(dir, 'creds', 'api_key'), value, mode);
    const tempBefore = tempFiles(new Set([dir]));

    let password = randomSecret('db-password');
    let apiKey = randomSecret('api-key');
    writePlatform(`DB_PASSWORD=${password}\nREDIS_URL=redis://cache:6379\n`);
    writeKey(apiKey);
    const env = baseEnv({ HOME: home, XDG_RUNTIME_DIR: runtime, SECRETVISOR_LOG_FORMAT: 'json', RECORD_FILE: records, RECORD_KEYS: 'DB_PASSWORD,DATABASE_URL,API_KEYS_PATH' });
    const cli = startCli(['run', '--log-level', 'trace', '--', process.execPath, FIXTURES.recordEnv], { cwd: dir, env });
    const outputs: { readonly what: string; readonly result: Pick<CliResult, 'stdout' | 'stderr'> }[] = [];
    const cmdlines: string[] = [];
    const childCmdlines = (): void => {
      cmdlines.push(cmdline(cli.pid));
      const last = readRecords(records)
        .filter((line) => line.event === 'start')
        .at(-1);
      if (last !== undefined) cmdlines.push(cmdline(last.pid));
    };

    await cli.waitForStderr('watching sources for changes');
    await cli.waitForStdout('ready');
    childCmdlines();

    // Rotations: the password restarts the child, the file-only key signals it.
    password = randomSecret('db-password-rotated');
    writePlatform(`DB_PASSWORD=${password}\nREDIS_URL=redis://cache:6379\n`);
    await waitForRecords(records, (lines) => lines.some((line) => line.event === 'start' && line.values.DB_PASSWORD === password), 'the restart for the new password');
    await cli.waitForReadyChildren(2);
    apiKey = randomSecret('api-key-rotated');
    writeKey(apiKey);
    await waitForRecords(records, (lines) => lines.some((line) => line.event === 'signal'), 'SIGHUP for the new key file');
    childCmdlines();

    // Reloads refused for bad values: each carries a secret of its own, and the child keeps running.
    const refusals: [() => void, string][] = [
      [() => writePlatform(`DB_PASSWORD="${randomSecret('unterminated')}\n`), 'is never closed'],
      [() => writePlatform(`DB_PASSWORD=${password}\nNODE_OPTIONS=--require=${randomSecret('node-options')}\n`), 'NODE_OPTIONS changes how programs load code'],
      [() => writePlatform(`DB_PASSWORD=${randomSecret('with-nul')}\0tail\n`), 'contains a NUL byte'],
      [() => writePlatform(`DB_PASSWORD=${randomSecret('huge')}${'x'.repeat(200 * 1024)}\n`), 'single env entry of 128 KiB'],
      [() => writePlatform(`OTHER=${randomSecret('no-password')}\n`), 'required key DB_PASSWORD missing'],
      [() => writeKey(randomSecret('world-readable'), 0o644), 'group or others may access it'],
    ];
    for (const [refuse, message] of refusals) {
      refuse();
      await cli.waitForStderr(message);
    }
    expect(readRecords(records).filter((line) => line.event === 'start')).toHaveLength(2);
    // What the health listener shows after all that: every source's last error, counts, ages.
    for (const path of ['/metrics', '/status', '/healthz']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      outputs.push({ what: `GET ${path}`, result: { stdout: await response.text(), stderr: '' } });
    }
    writeKey(apiKey);

    // The one-shot commands, beside the running service, as loud as they get.
    for (const args of [['check'], ['env'], ['env', '--format', 'json'], ['env', '--format', 'shell'], ['audit'], ['check', '--log-format', 'pretty'], ['status'], ['status', '--json']]) {
      writePlatform(`DB_PASSWORD=${password}\nREDIS_URL=redis://cache:6379\n`);
      const result = await runCli([...args, '--log-level', 'trace'], { cwd: dir, env });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      outputs.push({ what: `secretvisor ${args.join(' ')}`, result });
    }
    childCmdlines();

    cli.kill('SIGTERM');
    const run = await cli.exited();
    expect(run.code).toBe(0);
    outputs.push({ what: 'secretvisor run', result: run });

    // The secrets did reach the child (its own record, which secretvisor never writes), so their absence elsewhere means something.
    expect(readFileSync(records, 'utf8')).toContain(password);
    // Everything issued in this test, including the values refused and those only ever in files.
    expect(issuedSecrets().length).toBeGreaterThanOrEqual(10);
    for (const { what, result } of outputs) {
      expectNoLeak(result.stdout, `${what} stdout`);
      expectNoLeak(result.stderr, `${what} stderr`);
    }
    // Nothing logs at trace; debug is the most secretvisor says.
    expect(run.stderr).toContain('"level":20');
    for (const line of cmdlines) expectNoLeak(line, `a command line: ${line}`);
    expect(readdirSync(runtime)).toEqual([]);
    const written = filesUnder(dir, ours);
    expect(written).toEqual([join(dir, 'secretvisor.yaml')]);
    const tempAfter = tempFiles(new Set([dir]));
    const touched = [...tempAfter].filter(([path, mtime]) => tempBefore.get(path) !== mtime).map(([path]) => path);
    for (const path of [...written, ...touched]) {
      let text: string;
      try {
        text = readFileSync(path, 'latin1');
      } catch {
        continue; // removed meanwhile by whoever made it
      }
      expectNoLeak(text, path);
    }
  });
});
