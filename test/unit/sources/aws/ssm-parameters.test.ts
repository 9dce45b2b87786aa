import { describe, expect, it } from 'vitest';
import { SecretDataError } from '../../../../src/errors.js';
import { chunk, lastModified, mapParameters, parameterKey, versionSignature, type RawParameter } from '../../../../src/sources/aws/ssm-parameters.js';
import { randomSecret } from '../../../helpers/secrets.js';

const parameter = (name: string, version = 1, value = randomSecret('param'), lastModifiedAt?: Date): RawParameter => ({
  name,
  value,
  version,
  lastModified: lastModifiedAt,
});

describe('Parameter Store parameters', () => {
  it('names keys by the last path segment', () => {
    expect(parameterKey('/noxus/prod/db-password')).toBe('db-password');
    expect(parameterKey('plain-name')).toBe('plain-name');
  });

  it('maps values as they are and refuses two parameters with the same last segment, naming both but no value', () => {
    const list = parameter('/a/hosts', 1, 'x.example,y.example');
    expect(mapParameters([list], 's').get('hosts')?.reveal()).toBe('x.example,y.example');
    const clash = [parameter('/a/token'), parameter('/a/b/token')];
    expect(() => mapParameters(clash, 's')).toThrow(SecretDataError);
    expect(() => mapParameters(clash, 's')).toThrow('parameters "/a/b/token" and "/a/token" both give the key "token"');
    try {
      mapParameters(clash, 's');
    } catch (error) {
      for (const { value } of clash) expect(String(error)).not.toContain(value);
    }
  });

  it('gives one version signature for the same versions in any order, another when one changes', () => {
    const a = parameter('/a/x', 3);
    const b = parameter('/a/y', 7);
    expect(versionSignature([a, b])).toBe(versionSignature([b, a]));
    expect(versionSignature([a, { ...b, version: 8 }])).not.toBe(versionSignature([a, b]));
    expect(versionSignature([a])).not.toBe(versionSignature([a, b]));
  });

  it('finds the latest change and splits names into calls of 10', () => {
    const older = new Date('2026-01-01T00:00:00Z');
    const newer = new Date('2026-06-01T00:00:00Z');
    expect(lastModified([parameter('/a', 1, 'v', older), parameter('/b', 1, 'v', newer), parameter('/c')])).toEqual(newer);
    expect(
      chunk(
        Array.from({ length: 23 }, (_, index) => index),
        10,
      ).map((part) => part.length),
    ).toEqual([10, 10, 3]);
  });
});
