import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, SecretvisorError } from '../../../src/errors.js';
import { createRuntimeDir, removeRuntimeDir, runtimeBase } from '../../../src/render/runtime-dir.js';
import { removeTree } from '../../../src/render/remove-tree.js';
import { isLeftover, sweepRuntimeDirs } from '../../../src/render/sweep-runtime-dirs.js';
import { tempDir } from '../../helpers/tmp.js';

const IS_ROOT = process.geteuid?.() === 0;
const log = pino({ level: 'silent' });
const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('runtimeBase', () => {
  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['RUNTIME_DIRECTORY first (its first entry)', { RUNTIME_DIRECTORY: '/run/app:/run/other', XDG_RUNTIME_DIR: '/run/user/1000' }, '/run/app'],
    ['XDG_RUNTIME_DIR next', { RUNTIME_DIRECTORY: '', XDG_RUNTIME_DIR: '/run/user/1000' }, '/run/user/1000'],
    ['the OS temp dir last', {}, tmpdir()],
  ])('takes %s', (_what, env, expected) => {
    expect(runtimeBase(env)).toBe(expected);
  });
});

describe('createRuntimeDir', () => {
  it.each(['000', '077', '777'])('makes secretvisor.<pid>.XXXXXX with mode 0700 under umask %s', async (umask) => {
    const base = tempDir();
    const previous = process.umask(Number.parseInt(umask, 8));
    const dir = await createRuntimeDir(base).finally(() => process.umask(previous));

    expect(basename(dir)).toMatch(new RegExp(`^secretvisor\\.${process.pid}\\.[A-Za-z0-9]{6}$`));
    expect(modeOf(dir)).toBe('700');
    await removeRuntimeDir(dir);
    expect(readdirSync(base)).toEqual([]);
  });

  it('says which folder is missing and how to fix it (exit 1)', async () => {
    const missing = join(tempDir(), 'no-such-folder');
    const error = await createRuntimeDir(missing).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SecretvisorError);
    expect((error as SecretvisorError).exitCode).toBe(1);
    expect((error as SecretvisorError).message).toContain(`in ${missing} (ENOENT)`);
    expect((error as SecretvisorError).hint).toContain('RUNTIME_DIRECTORY');
  });

  it.skipIf(!IS_ROOT)('gives the folder to the child’s user when the base lets that user through (needs root)', async () => {
    const base = tempDir();
    chmodSync(base, 0o711);
    const dir = await createRuntimeDir(base, { uid: 65534, gid: 65534 });

    expect([statSync(dir).uid, statSync(dir).gid, modeOf(dir)]).toEqual([65534, 65534, '700']);
    await removeRuntimeDir(dir);
    expect(readdirSync(base)).toEqual([]);
  });

  it('refuses a base the child’s user cannot traverse (exit 78), naming the folder', async () => {
    const base = tempDir();
    // Someone other than whoever runs the tests, who owns the (0700) base.
    const error = await createRuntimeDir(base, { uid: 4242, gid: 4242 }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`${base} (mode 0700`);
    expect(readdirSync(base)).toEqual([]);
  });
});

describe('removeTree', () => {
  /** A folder holding a file, a subfolder, and links to a file and a folder outside it. */
  function plantTree(): { root: string; outside: string } {
    const root = join(tempDir(), 'tree');
    const outside = tempDir();
    writeFileSync(join(outside, 'precious'), 'keep me');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub', 'file'), 'x');
    symlinkSync(join(outside, 'precious'), join(root, 'link-to-file'));
    symlinkSync(outside, join(root, 'sub', 'link-to-folder'));
    return { root, outside };
  }

  it.each<[string, number | undefined]>([
    ['with this process’s own user', undefined],
    ['on the path for users other than root', 1000],
  ])('removes the tree %s, links but never what they point at', async (_as, euid) => {
    const { root, outside } = plantTree();

    await removeTree(root, euid === undefined ? {} : { euid });

    expect(() => lstatSync(root)).toThrow();
    expect(readFileSync(join(outside, 'precious'), 'utf8')).toBe('keep me');
  });

  it.skipIf(!IS_ROOT)('removes a tree another user owns, without touching what its links point at (needs root)', async () => {
    const { root, outside } = plantTree();
    for (const path of [root, join(root, 'sub')]) {
      chownSync(path, 65534, 65534);
      chmodSync(path, 0o700);
    }

    await removeTree(root);

    expect(() => lstatSync(root)).toThrow();
    expect(readdirSync(outside)).toEqual(['precious']);
  });

  it('removes only the link when the path itself is a link to a folder', async () => {
    const { root } = plantTree();
    const link = join(tempDir(), 'link');
    symlinkSync(root, link);

    await removeTree(link);

    expect(() => lstatSync(link)).toThrow();
    expect(readdirSync(root).sort()).toEqual(['link-to-file', 'sub']);
  });

  it('accepts a path that does not exist', async () => {
    await expect(removeTree(join(tempDir(), 'gone'))).resolves.toBeUndefined();
  });
});

describe('isLeftover', () => {
  const alive = new Set([100, 200]);
  const options = { pid: 100, isAlive: (pid: number) => alive.has(pid) };

  it.each<[string, boolean]>([
    ['secretvisor.300.AbC123', true],
    ['secretvisor.100.AbC123', true],
    ['secretvisor.200.AbC123', false],
    ['secretvisor.300', false],
    ['secretvisor.300.AbC1234', false],
    ['secretvisor.x.AbC123', false],
    ['secretvisor.300.AbC-23', false],
    ['other.300.AbC123', false],
  ])('%s → %s (own pid 100, pid 200 alive)', (name, expected) => {
    expect(isLeftover(name, options)).toBe(expected);
  });
});

describe('sweepRuntimeDirs', () => {
  it('removes the folders of dead runs that we own, and nothing else', async () => {
    const base = tempDir();
    const outside = tempDir();
    for (const name of ['secretvisor.300.AbC123', 'secretvisor.100.Own123', 'secretvisor.200.Live12']) {
      mkdirSync(join(base, name, 'keys'), { recursive: true });
      writeFileSync(join(base, name, 'keys', 'api'), 'x');
    }
    writeFileSync(join(base, 'secretvisor.301.File12'), 'a file, not a folder');
    symlinkSync(outside, join(base, 'secretvisor.302.Link12'));
    mkdirSync(join(base, 'unrelated'));

    const removed = await sweepRuntimeDirs(base, { log, pid: 100, isAlive: (pid) => pid === 200 });

    expect(removed).toBe(2);
    expect(readdirSync(base).sort()).toEqual(['secretvisor.200.Live12', 'secretvisor.301.File12', 'secretvisor.302.Link12', 'unrelated']);
    expect(readdirSync(outside)).toEqual([]);
  });

  it.skipIf(!IS_ROOT)('as root, removes dead folders of the child’s user but not those of other users (needs root)', async () => {
    const base = tempDir();
    for (const [name, uid] of [
      ['secretvisor.300.Child1', 65534],
      ['secretvisor.301.Other1', 12345],
    ] as const) {
      mkdirSync(join(base, name));
      chownSync(join(base, name), uid, uid);
    }

    const removed = await sweepRuntimeDirs(base, { log, childUser: { uid: 65534, gid: 65534 }, isAlive: () => false });

    expect(removed).toBe(1);
    expect(readdirSync(base)).toEqual(['secretvisor.301.Other1']);
  });

  it('does nothing when the base does not exist', async () => {
    await expect(sweepRuntimeDirs(join(tempDir(), 'missing'), { log })).resolves.toBe(0);
  });
});
