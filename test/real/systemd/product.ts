import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout under test. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Packs the built project as npm would publish it and installs that tarball as an operator would
 * (`npm install --global --prefix PREFIX`), its dependencies from the registry; returns PREFIX, which
 * the machine mounts at /usr/local. The built CLI (`npm run build`) must exist.
 */
export function installProduct(dir: string): string {
  if (!existsSync(join(REPO, 'dist', 'secretvisor.cjs'))) throw new Error(`no dist/secretvisor.cjs in ${REPO}: run npm run build first`);
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 })) as {
    filename: string;
  }[];
  const tarball = join(dir, packed[0]?.filename ?? '');
  const prefix = join(dir, 'usr-local');
  execFileSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
  if (!existsSync(join(prefix, 'bin', 'secretvisor'))) throw new Error(`npm install --global --prefix ${prefix} ${tarball} made no bin/secretvisor`);
  return prefix;
}
