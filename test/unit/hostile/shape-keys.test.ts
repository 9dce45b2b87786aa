import { sourceCommon } from '../../helpers/source-config.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shapeKeys } from '../../../src/sources/shape-keys.js';
import type { DotenvSourceConfig } from '../../../src/config/config.js';
import { ExitCode, SecretDataError, describeError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { SecretValue } from '../../../src/secret-value.js';

function config(overrides: Partial<DotenvSourceConfig> = {}): DotenvSourceConfig {
  return {
    ...sourceCommon('creds', { refreshMs: 60_000 }),
    type: 'dotenv',
    path: '/run/secrets/app.env',
    generate: new Map(),
    ...overrides,
  };
}

function shape(keys: readonly string[], overrides: Partial<DotenvSourceConfig>) {
  const entries = new Map(keys.map((key, index) => [key, new SecretValue(`value-${index}`)]));
  return shapeKeys(config(overrides), { entries, version: '1' }, silentLogger());
}

const NAME_PIECES = ['a', 'A', 'b', 'B', '_', '-', '.', ' ', '1', 'é', 'É', 'ß', 'ﬀ', '🔑', 'api', 'API', 'key', 'KEY', 'İ', 'ı'];
const name = fc.array(fc.constantFrom(...NAME_PIECES), { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join(''));
const options = fc.constantFrom<Partial<DotenvSourceConfig>>({}, { sanitize: true }, { upcase: true }, { sanitize: true, upcase: true, prefix: 'SV_' });

describe('names from a source: every key arrives under its own name, or the source is refused (exit 65)', () => {
  it('never lets two keys silently become one name', () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 8 }), options, (keys, overrides) => {
        let shaped;
        try {
          shaped = shape(keys, overrides);
        } catch (error) {
          expect(error).toBeInstanceOf(SecretDataError);
          expect((error as SecretDataError).exitCode).toBe(ExitCode.dataError);
          return;
        }
        expect(shaped.size).toBe(keys.length);
        const values = [...shaped.values()].map((value) => value.reveal()).sort();
        expect(values).toEqual(keys.map((_, index) => `value-${index}`).sort());
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    [['api-key', 'api_key'], { sanitize: true }, 'both become api_key'],
    [['api-key', 'API_KEY'], { upcase: true }, 'both become API_KEY'],
    [['api.key', 'api-key'], { upcase: true }, 'both become API_KEY'],
    [['1key', '_1key'], { sanitize: true }, 'both become _1key'],
    [['straße', 'stra_e'], { sanitize: true }, 'both become stra_e'],
    [['ﬀ', 'é'], { upcase: true }, 'both become _'],
    [['api-key'], {}, 'key "api-key" is not a valid env name'],
  ])('refuses %j with %j: %s', (keys, overrides, message) => {
    expect(() => shape(keys, overrides)).toThrow(message);
  });

  it('refuses two keys: entries mapped to names that collide after upcase', () => {
    const error = (() => {
      try {
        shape(['x', 'y'], {
          upcase: true,
          keys: new Map([
            ['token', 'x'],
            ['TOKEN', 'y'],
          ]),
        });
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();
    expect(describeError(error)).toContain('both become TOKEN');
  });
});
