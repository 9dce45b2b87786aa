import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../../src/sources/parse-dotenv.js';
import { SecretDataError } from '../../../src/errors.js';

describe('parseDotenv', () => {
  it.each([
    ['A=1\nB=two\n', { A: '1', B: 'two' }],
    ['export A=1\n', { A: '1' }],
    ['# comment\n\nA="quoted # not a comment"\n', { A: 'quoted # not a comment' }],
    ["A='single'\n", { A: 'single' }],
    ['A="multi\nline"\nB=2\n', { A: 'multi\nline', B: '2' }],
    ['A=1 # trailing comment\n', { A: '1' }],
    ['A=\n', { A: '' }],
    ['A="esc\\"aped"\n', { A: 'esc\\"aped' }],
  ])('parses %j', (text, expected) => {
    expect(Object.fromEntries(parseDotenv(text, 'test'))).toEqual(expected);
  });

  it.each([
    ['not an assignment\n', 'line 1 is not KEY=value'],
    ['A=1\n= no key\n', 'line 2 is not KEY=value'],
    ['A="never closed\nB=2\n', 'quoted value of A (line 1) is never closed'],
    ["A='half", 'quoted value of A (line 1) is never closed'],
  ])('refuses %j: %s', (text, message) => {
    expect(() => parseDotenv(text, 'test')).toThrow(SecretDataError);
    expect(() => parseDotenv(text, 'test')).toThrow(message);
  });

  it('never puts content in the error', () => {
    const secret = 'do-not-print-me-0001';
    try {
      parseDotenv(`${secret}\n`, 'test');
    } catch (error) {
      expect(String(error)).not.toContain(secret);
    }
  });
});
