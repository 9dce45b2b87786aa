import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { errnoOf } from '../../../src/lib/errno.js';

describe('errnoOf', () => {
  it("reads a system call's error code", async () => {
    const error: unknown = await readFile('/nonexistent/secretvisor-errno').catch((caught: unknown) => caught);
    expect(errnoOf(error)).toBe('ENOENT');
  });

  it.each([
    ['an error without a code', new Error('plain')],
    ['a thrown string', 'text'],
    ['a thrown null', null],
    ['a thrown undefined', undefined],
  ])('is undefined for %s', (_what, error) => {
    expect(errnoOf(error)).toBeUndefined();
  });
});
