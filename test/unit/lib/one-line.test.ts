import { describe, expect, it } from 'vitest';
import { oneLine } from '../../../src/lib/one-line.js';

describe('oneLine', () => {
  it.each([
    ['permission denied', 300, 'permission denied'],
    ['  two\nlines\r\n\tand a tab  ', 300, 'two lines and a tab'],
    ['a    b', 300, 'a b'],
    ['', 300, ''],
    ['1234567890', 10, '1234567890'],
    ['12345678901', 10, '1234567890…'],
    ['12345\n\n67890 12', 10, '12345 6789…'],
  ])('turns %j into one line of at most %i characters: %j', (text, maxLength, line) => {
    expect(oneLine(text, maxLength)).toBe(line);
  });
});
