import { describe, expect, it } from 'vitest';
import { stripOneNewline } from '../../../src/lib/strip-newline.js';

describe('stripOneNewline', () => {
  it.each([
    ['s3cret\n', 's3cret'],
    ['s3cret\r\n', 's3cret'],
    ['s3cret\n\n', 's3cret\n'],
    ['s3cret\r\n\r\n', 's3cret\r\n'],
    ['s3cret\r', 's3cret\r'],
    ['s3cret', 's3cret'],
    ['\n', ''],
    ['', ''],
    ['  padded  \n', '  padded  '],
  ])('turns %j into %j', (text, stripped) => {
    expect(stripOneNewline(text)).toBe(stripped);
  });
});
