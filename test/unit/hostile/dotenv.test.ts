import { sourceCommon } from '../../helpers/source-config.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../../src/sources/parse-dotenv.js';
import { createDotenvSource } from '../../../src/sources/dotenv-source.js';
import type { DotenvSourceConfig } from '../../../src/config/config.js';
import { ExitCode, SecretvisorError, describeError } from '../../../src/errors.js';
import { systemClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/log.js';
import { tempDir, writeSecretFile } from '../../helpers/tmp.js';

const MARKER = 'S3CR3T-VALUE-7f1c';

function parseError(text: string): unknown {
  try {
    parseDotenv(text, 'source "app" (app.env)');
    return undefined;
  } catch (error) {
    return error;
  }
}

function expectDataErrorOrParsed(error: unknown): void {
  if (error === undefined) return;
  expect(error, String((error as Error)?.stack)).toBeInstanceOf(SecretvisorError);
  expect((error as SecretvisorError).exitCode).toBe(ExitCode.dataError);
}

/** A dotenv source over one file, read as `run` reads it (permissions, size, UTF-8, strict parse). */
function dotenvSource(path: string) {
  const config: DotenvSourceConfig = {
    ...sourceCommon('app', { refreshMs: 60_000 }),
    type: 'dotenv',
    path,
    generate: new Map(),
  };
  return createDotenvSource({ config, log: silentLogger(), clock: systemClock, env: {}, service: undefined, pool: undefined });
}

const LINE_PIECES = ['A', 'KEY_1', 'export ', '=', ':', ' ', '\t', '"', "'", '`', '\\', '#', '\n', '\r\n', '\r', '\u0000', '\u2028', '\uFEFF', 'é', '🔑', '$', '${A}', MARKER];

describe('hostile dotenv content never crashes: parsed, or a SecretDataError (exit 65)', () => {
  it('for arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => expectDataErrorOrParsed(parseError(text))),
      { numRuns: 1_000 },
    );
  });

  it('for soup of dotenv syntax', () => {
    const soup = fc.array(fc.constantFrom(...LINE_PIECES), { maxLength: 40 }).map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(soup, (text) => expectDataErrorOrParsed(parseError(text))),
      { numRuns: 2_000 },
    );
  });

  it('never puts a value in its error message', () => {
    const value = fc.array(fc.constantFrom(...LINE_PIECES.filter((piece) => piece !== MARKER && !piece.includes('\n') && !piece.includes('\r'))), { maxLength: 8 });
    const line = fc
      .tuple(fc.constantFrom('A', 'B_2', 'export C'), fc.constantFrom('=', ': ', ' = '), value, value)
      .map(([key, sign, before, after]) => `${key}${sign}${before.join('')}${MARKER}${after.join('')}`);
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), fc.constantFrom('\n', '\r\n'), (lines, end) => {
        const error = parseError(lines.join(end));
        if (error !== undefined) expect(describeError(error)).not.toContain(MARKER);
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads back every single-quoted value exactly, whatever unicode it holds', () => {
    const value = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((text) => !/['\r\n\0]/.test(text));
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,11}$/), value, { maxKeys: 8 }), fc.constantFrom('\n', '\r\n'), (entries, end) => {
        const text = Object.entries(entries)
          .map(([key, v]) => `${key}='${v}'`)
          .join(end);
        expect(Object.fromEntries(parseDotenv(text, 'test'))).toEqual(entries);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a line separator (U+2028) inside a quoted value', `A="one\u2028two"\n`, { A: 'one\u2028two' }],
    ['a paragraph separator (U+2029) in an unquoted value', `A=one\u2029two\n`, { A: 'one\u2029two' }],
    ['CRLF line ends', 'A=1\r\nB="two"\r\n', { A: '1', B: 'two' }],
    ['lone CR line ends, as dotenv reads them', 'A=1\rB=2\r', { A: '1', B: '2' }],
    ['a key written twice (the last one wins, as in a shell)', 'A=1\nB=2\nA=3\n', { A: '3', B: '2' }],
    ['a byte-order mark before the first key', '\uFEFFA=1\n', undefined],
    ['a single-quoted value that ends in a backslash (found by the property above, seed 1043540723)', "A='\\'\nB='x'\n", { A: '\\', B: 'x' }],
    ['a double-quoted value that is a backslash, on the last line', 'A="\\"', { A: '\\' }],
    ['a backslash-quote whose value a later line closes, as dotenv reads it', "A='ab\\'\ncd'\n", { A: "ab\\'\ncd" }],
    ['10,000 keys', Array.from({ length: 10_000 }, (_, i) => `KEY_${i}=value-${i}`).join('\n'), 10_000],
    ['a value of 1,000,000 characters', `A=${'v'.repeat(1_000_000)}\n`, 1],
    ['a line of 1,000,000 spaces', `${' '.repeat(1_000_000)}\nA=1\n`, { A: '1' }],
    ['1,000,000 characters of an unclosed quote', `A="${'v'.repeat(1_000_000)}`, undefined],
    ['10,000 lines each opening a quote the next closes', `A="x\n`.repeat(10_000), undefined],
  ])('%s', (_name, text, expected) => {
    const started = Date.now();
    const error = parseError(text);
    expectDataErrorOrParsed(error);
    expect(Date.now() - started).toBeLessThan(2_000);
    if (typeof expected === 'number') expect(parseDotenv(text, 'test').size).toBe(expected);
    else if (expected !== undefined) expect(Object.fromEntries(parseDotenv(text, 'test'))).toEqual(expected);
  });
});

describe('hostile bytes in a dotenv file: read, or refused with exit 65', () => {
  it('for arbitrary bytes written to the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'app.env');
    const source = dotenvSource(path);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        writeFileSync(path, bytes, { mode: 0o600 });
        const error = await source.read(new AbortController().signal).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expectDataErrorOrParsed(error);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['invalid UTF-8', Buffer.from([0x41, 0x3d, 0xc3, 0x28, 0x0a]), 'is not valid UTF-8 text'],
    ['a lone UTF-16 surrogate encoded as UTF-8', Buffer.from([0x41, 0x3d, 0xed, 0xa0, 0x80, 0x0a]), 'is not valid UTF-8 text'],
    ['a NUL byte in a key', Buffer.from('A\0B=1\n'), 'line 1 is not KEY=value'],
    ['more than 1 MiB', Buffer.from(`A=${'v'.repeat(1024 * 1024)}\n`), 'larger than 1 MiB'],
  ])('refuses %s, naming the file and not the content', async (_name, bytes, message) => {
    const path = writeSecretFile(join(tempDir(), 'app.env'), '');
    writeFileSync(path, bytes);
    const error = await dotenvSource(path)
      .read(new AbortController().signal)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretvisorError);
    expect((error as SecretvisorError).exitCode).toBe(ExitCode.dataError);
    expect(describeError(error)).toContain(message);
    expect(describeError(error)).toContain(path);
  });

  it('keeps a NUL byte in a value as data: the environment check refuses it later, naming the key', async () => {
    const path = writeSecretFile(join(tempDir(), 'app.env'), 'A=one\0two\n');
    const snapshot = await dotenvSource(path).read(new AbortController().signal);
    expect(snapshot.entries.get('A')?.reveal()).toBe('one\0two');
  });
});
