import { mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PATH, findOnPath, isExecutable } from '../../../src/lib/find-on-path.js';
import { tempDir, writeSecretFile } from '../../helpers/tmp.js';

describe('findOnPath', () => {
  it('finds the first executable file of that name, in PATH order', () => {
    const [first, second] = [tempDir(), tempDir()];
    const wanted = writeSecretFile(join(first, 'tool'), '#!/bin/sh\n', 0o755);
    writeSecretFile(join(second, 'tool'), '#!/bin/sh\n', 0o755);
    expect(findOnPath('tool', [first, second].join(delimiter))).toEqual({ found: wanted, unusable: undefined });
  });

  it('skips a file that is not executable and a folder of that name, and names the first unusable file', () => {
    const [plain, folder, good] = [tempDir(), tempDir(), tempDir()];
    const unusable = writeSecretFile(join(plain, 'tool'), 'not a program', 0o644);
    mkdirSync(join(folder, 'tool'), { mode: 0o755 });
    const found = writeSecretFile(join(good, 'tool'), '#!/bin/sh\n', 0o755);
    expect(findOnPath('tool', [plain, folder, good].join(delimiter))).toEqual({ found, unusable });
    expect(findOnPath('tool', [plain, folder].join(delimiter))).toEqual({ found: undefined, unusable });
  });

  it('finds nothing on a PATH without the name', () => {
    expect(findOnPath('secretvisor-no-such-tool', tempDir())).toEqual({ found: undefined, unusable: undefined });
  });

  it('searches the default PATH when there is none', () => {
    expect(DEFAULT_PATH.split(delimiter)).toEqual(['/usr/local/bin', '/usr/bin', '/bin', '/sbin', '/usr/sbin']);
    expect(findOnPath('sh', undefined).found).toMatch(/^\/(usr\/)?bin\/sh$/);
  });
});

describe('isExecutable', () => {
  it.each([
    [0o755, true],
    [0o600, false],
  ])('is %o → %s', (mode, executable) => {
    expect(isExecutable(writeSecretFile(join(tempDir(), 'file'), 'x', mode))).toBe(executable);
  });
});
