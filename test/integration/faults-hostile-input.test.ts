import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { FIXTURES, makeProject } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';

// Hostile input through the real CLI: the exit code SPEC gives it, one clear
// message, no stack trace, no value. The property tests over the same
// modules are in test/unit/hostile/.

const STACK_TRACE = /\n\s+at .+:\d+:\d+/;
const APP = 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\n';
const secret = randomSecret('hostile');

/** Runs `run --once` over print-env in a project with these files (app.env holding `bytes`); returns the result and the child's env. */
async function runWith(config: string | Buffer, bytes: string | Buffer, more: Record<string, string> = {}) {
  const dir = makeProject({ 'secretvisor.yaml': '', 'app.env': '', ...more });
  writeFileSync(join(dir, 'secretvisor.yaml'), config);
  writeFileSync(join(dir, 'app.env'), bytes);
  const out = join(dir, 'env.json');
  const result = await runCli(['run', '--once', '--', process.execPath, FIXTURES.printEnv, out], { cwd: dir });
  expect(result.stderr).not.toMatch(STACK_TRACE);
  const env = result.code === 0 ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>) : {};
  return { result, env };
}

describe('hostile config files: exit 78 with a message, never a stack trace', () => {
  it.each([
    ['binary garbage', Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x5b, 0x0a, 0x3a, 0x2d]), 'the config must be a YAML map'],
    ['an alias used before its anchor', `${APP}env: { X: *nowhere }\n`, 'not usable YAML'],
    ['an alias that contains itself', `${APP}scopes: &s\n  services: { a: *s }\n`, 'contains itself through a YAML alias'],
    [
      'a billion laughs',
      `${APP}x: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${Array.from(
        { length: 9 },
        (_, i) =>
          `x${i}: &a${i} [${Array(9)
            .fill(i === 0 ? '*a' : `*a${i - 1}`)
            .join(', ')}]`,
      ).join('\n')}\n`,
      'not usable YAML',
    ],
    ['a NUL byte in a source path', 'version: 1\nsources:\n  app: { type: dotenv, path: "app\\0.env" }\n', 'sources.app.path: expected a path without NUL bytes'],
    ['a NUL byte in a file output path', `${APP}files:\n  - { path: "keys\\0", template: x }\n`, 'files[0].path: expected a path without NUL bytes'],
    [
      'a refresh longer than a timer can wait (it would fire every millisecond)',
      'version: 1\nsources:\n  app: { type: dotenv, path: app.env, refresh: 1000h }\n',
      'sources.app.refresh: expected at most 596h',
    ],
    ['a list 10,000 deep', `${APP}env: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, 'RESOURCE_EXHAUSTION'],
  ])('%s', async (_name, config, message) => {
    const { result } = await runWith(config, `A=${secret}\n`);
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain(message);
  });

  it('takes a 90 KB run of "{{ " in a template as text, at once', async () => {
    const text = '{{ '.repeat(30_000);
    const started = Date.now();
    const { result, env } = await runWith(`${APP}env:\n  X: "${text}"\n`, `A=${secret}\n`);
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(env.X).toBe(text);
  });
});

describe('hostile dotenv files: exit 65 naming the file and key, or the values exactly', () => {
  it.each([
    ['invalid UTF-8', Buffer.concat([Buffer.from(`A=${secret}`), Buffer.from([0xc3, 0x28, 0x0a])]), 'is not valid UTF-8 text'],
    ['a NUL byte in a value', `A=${secret}\0tail\n`, 'the value of A contains a NUL byte'],
    ['a 200 KB line', `A=${secret}${'v'.repeat(200 * 1024)}\n`, 'the kernel refuses a single env entry of 128 KiB'],
    ['10,000 keys of 300 bytes (3 MB): over the kernel limit', `${Array.from({ length: 10_000 }, (_, i) => `K${i}=${'v'.repeat(300)}`).join('\n')}\n`, 'larger than 1 MiB'],
  ])('%s', async (_name, bytes, message) => {
    const { result } = await runWith(APP, bytes);
    expect(result.code, result.stderr).toBe(65);
    expect(logText(result.stderr)).toContain(message);
  });

  it('refuses three files of 800 KB that together pass ARG_MAX, suggesting files:', async () => {
    const big = (prefix: string): string => Array.from({ length: 8 }, (_, i) => `${prefix}${i}=${secret}${'v'.repeat(100 * 1024)}`).join('\n');
    const config = 'version: 1\nsources:\n  a: { type: dotenv, path: app.env }\n  b: { type: dotenv, path: b.env }\n  c: { type: dotenv, path: c.env }\n';
    const { result } = await runWith(config, big('A'), { 'b.env': big('B'), 'c.env': big('C') });
    expect(result.code, result.stderr).toBe(65);
    expect(logText(result.stderr)).toContain("over the kernel's 2097152-byte limit");
    expect(logText(result.stderr)).toContain('deliver the largest secrets as files');
  });

  it('passes 5,000 keys, CRLF line ends and a value holding U+2028 exactly', async () => {
    const keys = Array.from({ length: 5_000 }, (_, i) => `K${i}=v${i}`).join('\r\n');
    const { result, env } = await runWith(APP, `${keys}\r\nA="${secret}\u2028next"\r\n`);
    expect(result.code, result.stderr).toBe(0);
    expect(env.K0).toBe('v0');
    expect(env.K4999).toBe('v4999');
    expect(env.A).toBe(`${secret}\u2028next`);
  });
});
