import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import { finalizeConfig } from '../../../src/config/finalize.js';
import { ExitCode, SecretvisorError, describeError } from '../../../src/errors.js';
import { cpuMsOf } from '../../helpers/cpu-time.js';

const ENV = { HOME: '/home/app', VAULT_ADDR: 'http://127.0.0.1:8200' };

/** Loads config text as `run` does: YAML, `${NAME}`, schema, finalize. Resolves with the error, or undefined when it is valid. */
async function loadError(text: string): Promise<unknown> {
  try {
    const raw = await parseConfigText(text, '/etc/secretvisor.yaml', ENV);
    finalizeConfig(raw, { file: '/etc/secretvisor.yaml', env: ENV, cwd: '/' });
    return undefined;
  } catch (error) {
    return error;
  }
}

/** A failure must be a ConfigError: exit 78, one clear message, nothing unexpected. */
function expectConfigErrorOrValid(error: unknown): void {
  if (error === undefined) return;
  expect(error, String((error as Error)?.stack)).toBeInstanceOf(SecretvisorError);
  expect((error as SecretvisorError).exitCode).toBe(ExitCode.config);
}

const VALID = {
  version: 1,
  sources: { app: { type: 'dotenv', path: 'app.env', required: ['TOKEN'] } },
  env: { URL: 'x://{{secret.TOKEN}}@h' },
  files: [{ path: 'keys', template: '{{secret.TOKEN}}\n', mode: '0400', env: 'KEYS_PATH' }],
  onChange: { env: 'restart', debounce: '250ms', signal: 'SIGHUP' },
};

const YAML_TOKENS = [
  ':',
  ': ',
  '-',
  '- ',
  ' ',
  '  ',
  '\n',
  '\t',
  '{',
  '}',
  '[',
  ']',
  ',',
  '&a ',
  '*a',
  '<<: *a',
  '!!str ',
  '!!binary ',
  '!!set ',
  '!!omap ',
  '!custom ',
  '"',
  "'",
  '|',
  '>',
  '#',
  '?',
  '%YAML 1.2\n',
  '---\n',
  '...\n',
  '\\',
  '${HOME}',
  '${NOPE}',
  '$$',
  '{{secret.TOKEN}}',
  '{{',
  '}}',
  'version',
  'version: 1\n',
  'sources',
  'type',
  'dotenv',
  'vault',
  'path',
  'env',
  'files',
  'scopes',
  'onChange',
  '__proto__',
  'constructor',
  '0x1F',
  '1e309',
  '-0',
  '.nan',
  'null',
  '~',
  'true',
  '\u0000',
  '\uFEFF',
  '\u2028',
  'é',
  '🔑',
];

describe('hostile config text never crashes: a valid config or a ConfigError (exit 78)', () => {
  it('for arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), async (text) => expectConfigErrorOrValid(await loadError(text))),
      {
        numRuns: 300,
      },
    );
  });

  it('for YAML token soup', async () => {
    const soup = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 60 }).map((tokens) => tokens.join(''));
    await fc.assert(
      fc.asyncProperty(soup, async (text) => expectConfigErrorOrValid(await loadError(`version: 1\n${text}`))),
      { numRuns: 500 },
    );
  });

  it('for random structures in place of any part of a valid config', async () => {
    const value = fc.anything({ maxDepth: 4, withBigInt: false, withNullPrototype: true, withSparseArray: true, withUnicodeString: true });
    const section = fc.constantFrom('sources', 'env', 'files', 'onChange', 'scopes', 'inherit', 'startup', 'user', 'permissions');
    await fc.assert(
      fc.asyncProperty(section, value, async (key, replacement) => {
        const text = stringify({ ...VALID, [key]: replacement });
        expectConfigErrorOrValid(await loadError(text));
      }),
      { numRuns: 300 },
    );
  });

  it('for random source entries', async () => {
    const sourceEntry = fc.record(
      {
        type: fc.constantFrom('dotenv', 'directory', 'vault', 'aws-secrets-manager', 'consul'),
        path: fc.string({ unit: 'binary' }),
        keys: fc.dictionary(fc.string({ unit: 'binary' }), fc.string()),
        prefix: fc.string({ unit: 'binary' }),
        required: fc.array(fc.string()),
        sanitize: fc.boolean(),
        upcase: fc.boolean(),
        refresh: fc.string(),
        secretId: fc.string(),
        address: fc.string(),
        auth: fc.record({ method: fc.constantFrom('token', 'approle', 'kubernetes', 'ldap'), roleId: fc.string(), role: fc.string() }, { requiredKeys: ['method'] }),
      },
      { requiredKeys: ['type'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ unit: 'binary', minLength: 1 }), sourceEntry, { maxKeys: 3 }), async (sources) => {
        expectConfigErrorOrValid(await loadError(stringify({ version: 1, sources })));
      }),
      { numRuns: 300 },
    );
  });

  it.each<[string, 'refused' | 'accepted', string, string]>([
    ['a list nested 5,000 deep', 'refused', `version: 1\nsources: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`, 'RESOURCE_EXHAUSTION'],
    ['a map nested 5,000 deep (flow)', 'refused', `version: 1\nsources: ${'{a: '.repeat(5_000)}1${'}'.repeat(5_000)}\n`, 'RESOURCE_EXHAUSTION'],
    ['a map nested 2,000 deep (block)', 'refused', `version: 1\nsources:\n${Array.from({ length: 2_000 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`, 'RESOURCE_EXHAUSTION'],
    [
      'an alias bomb (billion laughs)',
      'refused',
      `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ).join('\n')}\nversion: 1\nsources: {}\n`,
      'not usable YAML',
    ],
    ['an alias to an anchor defined later', 'refused', 'version: 1\nsources: *later\nenv: &later {}\n', 'not usable YAML'],
    ['an alias that contains itself', 'refused', 'version: 1\nsources: &s\n  a: *s\n', 'sources.a contains itself through a YAML alias'],
    ['a 5 MB string value', 'accepted', `version: 1\nsources:\n  app: { type: dotenv, path: "${'p'.repeat(5 * 1024 * 1024)}" }\n`, ''],
    ['a 1 MB unknown key', 'refused', `version: 1\nsources: {}\n${'k'.repeat(1024 * 1024)}: 1\n`, 'KEY_OVER_1024_CHARS'],
    ['a 1 MB env name', 'refused', `version: 1\nsources: {}\nenv:\n  ${'A'.repeat(1024 * 1024)}: x\n`, 'KEY_OVER_1024_CHARS'],
    [
      '10,000 unknown keys',
      'refused',
      `version: 1\nsources: {}\n${Array.from({ length: 10_000 }, (_, i) => `unknown${i}: ${i}`).join('\n')}\n`,
      'unknown key "unknown19" at (top level)\n  and 9980 more unknown keys at (top level)',
    ],
    ['a template of "{{" and 100,000 spaces', 'accepted', `version: 1\nsources: {}\nenv:\n  X: "{{${' '.repeat(100_000)}"\n`, ''],
    ['a template of 100,000 "{"', 'accepted', `version: 1\nsources: {}\nenv:\n  X: "${'{'.repeat(100_000)}"\n`, ''],
    ['a NUL byte in a source path', 'refused', 'version: 1\nsources:\n  app: { type: dotenv, path: "app\\0.env" }\n', 'sources.app.path: expected a path without NUL bytes'],
    ['a NUL byte in a file output path', 'refused', 'version: 1\nsources: {}\nfiles:\n  - { path: "a\\0b", template: x }\n', 'files[0].path: expected a path without NUL bytes'],
    ['a byte-order mark and CRLF line ends', 'accepted', '\uFEFFversion: 1\r\nsources:\r\n  app: { type: dotenv, path: app.env }\r\n', ''],
    ['binary, set and ordered-map tags', 'refused', 'version: 1\nsources: !!set { a, b }\nenv: !!omap [ X: y ]\ninherit: !!binary aGVsbG8=\n', 'inherit'],
    ['a refresh longer than a timer can wait', 'refused', 'version: 1\nsources:\n  app: { type: dotenv, path: app.env, refresh: 1000h }\n', 'sources.app.refresh: expected at most 596h'],
    ['a debounce of 99999999999h', 'refused', 'version: 1\nsources: {}\nonChange: { debounce: 99999999999h }\n', 'onChange.debounce: expected at most 596h'],
    ['the longest duration a timer can wait', 'accepted', 'version: 1\nsources: {}\nstartup: { timeout: 596h }\nonChange: { debounce: 2147483647ms }\n', ''],
  ])('for %s: %s, in a second or two', async (_name, outcome, text, message) => {
    let error: unknown;
    const cpuMs = await cpuMsOf(async () => (error = await loadError(text)));
    expectConfigErrorOrValid(error);
    expect(cpuMs).toBeLessThan(5_000);
    if (outcome === 'accepted') expect(error).toBeUndefined();
    else expect(describeError(error)).toContain(message);
  });
});
