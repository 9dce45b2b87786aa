import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFUSED_NAMES, REFUSED_PREFIXES, isRefusedName } from '../../src/sources/refused-names.js';

// The README lists the refused names by hand for operators; this holds the list to the code.
const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

function readmeBullet(): string {
  const start = README.indexOf('- **Refused names**');
  expect(start, 'the README\'s "Refused names" bullet').toBeGreaterThan(-1);
  const end = README.indexOf('\n- ', start + 1);
  return README.slice(start, end);
}

describe("the README's refused names", () => {
  const named = [...readmeBullet().matchAll(/`([A-Z_][A-Z0-9_]*)(\*)?`/g)].map((match) => ({ name: match[1] as string, isPrefix: match[2] === '*' }));

  it('lists every name the code refuses, and no other', () => {
    expect(
      named
        .filter((entry) => !entry.isPrefix)
        .map((entry) => entry.name)
        .sort(),
    ).toEqual([...REFUSED_NAMES].sort());
  });

  it('lists every prefix the code refuses, as NAME_*', () => {
    expect(
      named
        .filter((entry) => entry.isPrefix)
        .map((entry) => entry.name)
        .sort(),
    ).toEqual([...REFUSED_PREFIXES].sort());
  });

  it.each([
    ['LD_AUDIT', true],
    ['DYLD_INSERT_LIBRARIES', true],
    ['NODE_OPTIONS', true],
    ['NODE_ENV', false],
    ['PATHS', false],
  ])('%s is refused: %s', (name, refused) => {
    expect(isRefusedName(name)).toBe(refused);
  });
});
