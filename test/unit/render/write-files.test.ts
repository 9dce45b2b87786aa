import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { SecretValue } from '../../../src/secret-value.js';
import { writeFileOutputs } from '../../../src/render/write-files.js';
import type { RenderedFile } from '../../../src/render/build-plan.js';
import { randomSecret } from '../../helpers/secrets.js';
import { tempDir } from '../../helpers/tmp.js';

const IS_ROOT = process.geteuid?.() === 0;

const file = (path: string, content: string, mode = 0o400): RenderedFile => ({ path, content: new SecretValue(content), mode });
const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** Runs `action` under `umask`, restoring the previous one after. */
async function withUmask<T>(umask: number, action: () => Promise<T>): Promise<T> {
  const previous = process.umask(umask);
  try {
    return await action();
  } finally {
    process.umask(previous);
  }
}

describe('writeFileOutputs', () => {
  it.each(['000', '022', '277', '777'])('gives files their exact modes and folders 0700 under umask %s', async (umask) => {
    const dir = tempDir();
    const secret = randomSecret();

    await withUmask(Number.parseInt(umask, 8), () => writeFileOutputs(dir, [file('a/b/key.pem', secret, 0o400), file('shared', secret, 0o640)]));

    expect([join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'key.pem'), join(dir, 'shared')].map(modeOf)).toEqual(['700', '700', '400', '640']);
    expect(readFileSync(join(dir, 'a', 'b', 'key.pem'), 'utf8')).toBe(secret);
  });

  it('replaces an existing file, its content and its looser mode, and leaves no temp file behind', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'old', { mode: 0o644 });
    chmodSync(join(dir, 'token'), 0o644);
    const secret = randomSecret();

    await writeFileOutputs(dir, [file('token', secret)]);
    await writeFileOutputs(dir, [file('token', secret)]);

    expect(readFileSync(join(dir, 'token'), 'utf8')).toBe(secret);
    expect(modeOf(join(dir, 'token'))).toBe('400');
    expect(readdirSync(dir)).toEqual(['token']);
  });

  it.each<[string, (dir: string, outside: string) => void, string]>([
    ['a symlink at the file', (dir, outside) => symlinkSync(join(outside, 'token'), join(dir, 'token')), 'token'],
    ['a symlink at a folder on the way', (dir, outside) => symlinkSync(outside, join(dir, 'sub')), 'sub/token'],
    ['a folder at the file', (dir) => mkdirSync(join(dir, 'token')), 'token'],
    ['a file at a folder on the way', (dir) => writeFileSync(join(dir, 'sub'), ''), 'sub/token'],
  ])('refuses %s with a ConfigError (exit 78) and writes nothing outside', async (_what, plant, path) => {
    const dir = tempDir();
    const outside = tempDir();
    writeFileSync(join(outside, 'token'), 'untouched');
    plant(dir, outside);

    const error = await writeFileOutputs(dir, [file(path, randomSecret())]).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(78);
    expect((error as ConfigError).message).toContain('inside the output folder');
    expect(readdirSync(outside)).toEqual(['token']);
    expect(readFileSync(join(outside, 'token'), 'utf8')).toBe('untouched');
  });

  it.skipIf(!IS_ROOT)('gives files and the folders it makes to the owner (needs root)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'existing'), { mode: 0o700 });

    await writeFileOutputs(dir, [file('existing/a', randomSecret()), file('new/b', randomSecret())], { uid: 65534, gid: 65534 });

    const owners = ['existing', 'existing/a', 'new', 'new/b'].map((path) => `${statSync(join(dir, path)).uid}:${statSync(join(dir, path)).gid}`);
    expect(owners).toEqual(['0:0', '65534:65534', '65534:65534', '65534:65534']);
  });
});
