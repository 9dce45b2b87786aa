import { describe, expect, it } from 'vitest';
import { SecretDataError, describeError } from '../../../../src/errors.js';
import { mapSecretValue, type RawSecretValue } from '../../../../src/sources/aws/secret-values.js';
import { expectNoLeak, randomSecret } from '../../../helpers/secrets.js';

const target = { source: 'finance', secretId: 'noxus/pools/finance', key: undefined };

function reveal(map: ReadonlyMap<string, { reveal(): string }>): Record<string, string> {
  return Object.fromEntries([...map].map(([name, value]) => [name, value.reveal()]));
}

function text(value: string): RawSecretValue {
  return { secretString: value, secretBinary: undefined };
}

describe('mapSecretValue', () => {
  it('gives one key per field of a JSON-object SecretString', () => {
    const password = randomSecret('password');
    expect(reveal(mapSecretValue(text(JSON.stringify({ USER: 'app', PASSWORD: password })), target))).toEqual({
      USER: 'app',
      PASSWORD: password,
    });
  });

  it.each([
    ['a number', 5432, '5432'],
    ['a boolean', true, 'true'],
    ['null', null, 'null'],
    ['an array', [1, 'two'], '[1,"two"]'],
    ['an object', { nested: 'x' }, '{"nested":"x"}'],
  ])('passes %s field as its JSON text', (_label, field, expected) => {
    expect(reveal(mapSecretValue(text(JSON.stringify({ FIELD: field })), target))).toEqual({ FIELD: expected });
  });

  it('gives no keys for an empty JSON object', () => {
    expect(mapSecretValue(text('{}'), target).size).toBe(0);
  });

  it.each([
    ['a plain string', () => randomSecret('plain')],
    ['a JSON array', () => JSON.stringify([randomSecret('item')])],
    ['a JSON string', () => JSON.stringify(randomSecret('quoted'))],
    ['broken JSON', () => `{"TOKEN": "${randomSecret('broken')}"`],
  ])('passes %s whole under `key`', (_label, make) => {
    const value = make();
    expect(reveal(mapSecretValue(text(value), { ...target, key: 'TOKEN' }))).toEqual({ TOKEN: value });
  });

  it.each([
    ['a plain string', () => randomSecret('plain')],
    ['broken JSON', () => `{"TOKEN": "${randomSecret('broken')}"`],
  ])('refuses %s without `key`, naming source and secret but never the value', (_label, make) => {
    let error: unknown;
    try {
      mapSecretValue(text(make()), target);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretDataError);
    const message = describeError(error);
    expect(message).toContain('"finance"');
    expect(message).toContain('"noxus/pools/finance"');
    expect(message).toContain('`key: ENV_NAME`');
    expectNoLeak(message, 'error message');
  });

  it('passes a SecretBinary base64-encoded under `key`', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const map = mapSecretValue({ secretString: undefined, secretBinary: bytes }, { ...target, key: 'BLOB' });
    expect(reveal(map)).toEqual({ BLOB: 'AAEC+v8=' });
  });

  it('refuses a SecretBinary without `key`', () => {
    expect(() => mapSecretValue({ secretString: undefined, secretBinary: new Uint8Array([1]) }, target)).toThrow(/SecretBinary/);
  });

  it('refuses a version with no value at all', () => {
    expect(() => mapSecretValue({ secretString: undefined, secretBinary: undefined }, target)).toThrow(SecretDataError);
  });

  it('never shows a value when printed', () => {
    const password = randomSecret('password');
    const map = mapSecretValue(text(JSON.stringify({ PASSWORD: password })), target);
    expectNoLeak(`${JSON.stringify([...map])} ${String(map.get('PASSWORD'))}`, 'printed map');
  });
});
