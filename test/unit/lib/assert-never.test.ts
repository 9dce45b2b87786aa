import { describe, expect, it } from 'vitest';
import { assertNever } from '../../../src/lib/assert-never.js';

describe('assertNever', () => {
  it('throws what it was told, with the value that slipped past the types', () => {
    expect(() => assertNever({ kind: 'consul' } as never, 'unknown source kind')).toThrow('unknown source kind: {"kind":"consul"}');
  });
});
