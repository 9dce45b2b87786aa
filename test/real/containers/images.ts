import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mustRun } from './exec.js';
import type { Podman } from './podman.js';
import { ROOTFS_RECIPE } from './rootfs.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The image names this harness makes, all local (no registry is reachable from these machines). */
export const IMAGES = {
  base: 'localhost/secretvisor-test-base:local',
  install: 'localhost/secretvisor-test-install:local',
  app: 'localhost/noxus-app:test',
} as const;

const BASE_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The stand-in for `node:20-bookworm-slim`: the cached rootfs with the Node.js running these tests added
 * at /usr/bin/node (a single binary linked only against glibc and libstdc++, which bookworm has).
 */
export async function importBaseImage(podman: Podman, rootfs: string): Promise<void> {
  const node = process.execPath;
  await podman.importTar(['-C', rootfs, '.', '-C', dirname(node), '--transform', `s,^${escapeSed(basename(node))}$,./usr/bin/node,S`, basename(node)], IMAGES.base, [
    `ENV ${BASE_PATH}`,
    'CMD ["/bin/sh"]',
  ]);
  const user = await podman.must(['run', '--rm', '--network', 'none', IMAGES.base, 'sh', '-c', `node --version && id -u ${ROOTFS_RECIPE.user.name}`]);
  if (user.stdout.trim().split('\n')[1] !== String(ROOTFS_RECIPE.user.uid))
    throw new Error(`containers: the base image's ${ROOTFS_RECIPE.user.name} is not uid ${ROOTFS_RECIPE.user.uid}: ${user.stdout}`);
}

/**
 * secretvisor as an operator installs it, from the tarball `npm pack` makes of this checkout, installed on
 * the host (which trusts the npm registry's CA; the image does not) into /opt/secretvisor of an image that
 * the Dockerfile's SECRETVISOR_INSTALL build argument takes in place of its `install` stage.
 */
export async function importInstallImage(podman: Podman): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sv-install-'));
  try {
    await mustRun('npm', ['pack', '--silent', '--pack-destination', work], { cwd: REPO, timeoutMs: 5 * 60_000 });
    const tarball = readdirSync(work).find((name) => name.startsWith('secretvisor-') && name.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`containers: npm pack made no secretvisor-*.tgz in ${work}`);
    const prefix = join(work, 'root', 'opt', 'secretvisor');
    mkdirSync(prefix, { recursive: true });
    await mustRun('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', join(work, tarball)], { cwd: work, timeoutMs: 10 * 60_000 });
    await podman.importTar(['-C', join(work, 'root'), '.'], IMAGES.install, []);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Builds examples/container/Dockerfile from the repository root, on the local base and install images, with no network. */
export async function buildAppImage(podman: Podman): Promise<void> {
  await podman.must(
    [
      'build',
      '--network',
      'none',
      '--pull=never',
      '--build-arg',
      `BASE_IMAGE=${IMAGES.base}`,
      '--build-arg',
      `SECRETVISOR_INSTALL=${IMAGES.install}`,
      '--file',
      join(REPO, 'examples', 'container', 'Dockerfile'),
      '--tag',
      IMAGES.app,
      REPO,
    ],
    10 * 60_000,
  );
}

function escapeSed(text: string): string {
  return text.replace(/[.[\]*^$\\/,]/g, '\\$&');
}
