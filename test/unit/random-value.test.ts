import { describe, expect, it } from 'vitest';
import { randomValue } from '../../src/generate/random-value.js';
import { SECRET_MASK } from '../../src/secret-value.js';

describe('randomValue', () => {
  it('gives bytes in the chosen encoding, masked when printed', () => {
    expect(randomValue({ kind: 'bytes', bytes: 32, encoding: 'hex' }).reveal()).toMatch(/^[0-9a-f]{64}$/);
    expect(randomValue({ kind: 'bytes', bytes: 32, encoding: 'base64' }).reveal()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(randomValue({ kind: 'bytes', bytes: 32, encoding: 'base64url' }).reveal()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(`${randomValue({ kind: 'bytes', bytes: 8, encoding: 'hex' })}`).toBe(SECRET_MASK);
  });

  it('draws every character of an alphabet equally often (an alphabet of 3 would show a modulo bias of 1/256)', () => {
    const counts = new Map<string, number>();
    const value = randomValue({ kind: 'alphabet', length: 300_000, alphabet: 'abc' }).reveal();
    for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c']);
    // 100,000 expected each; the standard deviation is about 258, so 1,500 is ~6 sigma.
    for (const count of counts.values()) expect(Math.abs(count - 100_000)).toBeLessThan(1_500);
  });
});
