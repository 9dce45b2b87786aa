import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; scripts: Record<string, string> };

// The tarball users install: `npm pack` builds first (prepack), ships dist/
// and the LICENSE, and the installed `secretvisor` runs from any folder.
describe('the npm package', () => {
  it('builds before packing, and names its license in package.json and LICENSE alike', () => {
    expect(PACKAGE.scripts.prepack).toBe('npm run build');
    expect(PACKAGE.license).toBe('Apache-2.0');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
  });

  it('packs dist/ and LICENSE, installs globally into a prefix, and runs --version from another folder', { timeout: 240_000 }, () => {
    const work = tempDir('sv-pack-');
    // dist/ is fresh (npm test builds first): skip prepack so the build other test files use is not rewritten under them.
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' })) as [
      { filename: string; files: { path: string }[] },
    ];
    const files = packed[0].files.map((file) => file.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'dist/secretvisor.cjs', 'package.json']));
    expect(files.some((path) => path.startsWith('src/') || path.startsWith('test/'))).toBe(false);
    const prefix = join(work, 'prefix');
    execFileSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, packed[0].filename)], {
      cwd: work,
      stdio: 'ignore',
    });
    const elsewhere = tempDir('sv-elsewhere-');
    const version = execFileSync(join(prefix, 'bin', 'secretvisor'), ['--version'], { cwd: elsewhere, encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(version).toBe(`secretvisor ${PACKAGE.version}\n`);
  });
});
