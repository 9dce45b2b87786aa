import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statSignature } from '../../../src/watch/stat-signature.js';
import { tempDir, writeSecretFile } from '../../helpers/tmp.js';

describe('statSignature', () => {
  it('stays the same while nothing changes', async () => {
    const dir = tempDir();
    writeSecretFile(join(dir, 'app.env'), 'A=1\n');
    expect(await statSignature(join(dir, 'app.env'), 'file')).toBe(await statSignature(join(dir, 'app.env'), 'file'));
    expect(await statSignature(dir, 'folder')).toBe(await statSignature(dir, 'folder'));
  });

  it.each([
    ['a write in place', (file: string) => writeFileSync(file, 'A=22\n')],
    ['a replace by rename', (file: string) => (writeSecretFile(`${file}.new`, 'A=1\n'), renameSync(`${file}.new`, file))],
    ['a chmod', (file: string) => chmodSync(file, 0o644)],
    ['a deletion', (file: string) => unlinkSync(file)],
  ])('changes for a file on %s', async (_what, change) => {
    const file = join(tempDir(), 'app.env');
    writeSecretFile(file, 'A=1\n');
    const before = await statSignature(file, 'file');
    change(file);
    expect(await statSignature(file, 'file')).not.toBe(before);
  });

  it('changes for a folder when a Kubernetes ..data link is swapped', async () => {
    const dir = tempDir();
    for (const version of ['..v1', '..v2']) {
      mkdirSync(join(dir, version), { mode: 0o700 });
      writeSecretFile(join(dir, version, 'token'), version);
    }
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/token', join(dir, 'token'));
    const before = await statSignature(dir, 'folder');
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..v1'), { recursive: true });
    expect(await statSignature(dir, 'folder')).not.toBe(before);
  });

  it('changes for a folder when a key is added', async () => {
    const dir = tempDir();
    const before = await statSignature(dir, 'folder');
    writeSecretFile(join(dir, 'token'), 'x');
    expect(await statSignature(dir, 'folder')).not.toBe(before);
  });
});
