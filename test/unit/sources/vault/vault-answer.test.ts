import { describe, expect, it } from 'vitest';
import { describeErrorAnswer } from '../../../../src/sources/vault/vault-answer.js';

// The error texts below are what OpenBao 2.7 answers (seen by test/real/); the project's own test server answers the plain text.
describe('describeErrorAnswer', () => {
  it.each([
    ['1 error occurred:\n\t* permission denied\n\n', 'permission denied'],
    ['2 errors occurred:\n\t* invalid role\n\t* missing secret_id\n\n', 'invalid role; missing secret_id'],
    ['permission denied', 'permission denied'],
    ['', ''],
  ])('unwraps go-multierror text %j', (message, expected) => {
    expect(describeErrorAnswer(403, message, undefined)).toBe(expected);
  });

  it('names a soft-deleted and a destroyed KV v2 version from the metadata of the 404', () => {
    const deleted = { data: { data: null, metadata: { version: 3, deletion_time: '2026-12-01T22:26:40Z', destroyed: false } } };
    const destroyed = { data: { data: null, metadata: { version: 2, deletion_time: '2026-12-01T22:26:40Z', destroyed: true } } };
    expect(describeErrorAnswer(404, '', deleted)).toBe('version 3 of the secret was deleted at 2026-12-01T22:26:40Z');
    expect(describeErrorAnswer(404, '', destroyed)).toBe('version 2 of the secret was destroyed');
    expect(describeErrorAnswer(404, '', { errors: [] })).toBe('');
  });
});
