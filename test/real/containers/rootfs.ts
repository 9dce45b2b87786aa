import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptMirror } from './apt-mirror.js';
import { pollUntil } from '../../helpers/poll-until.js';
import { mustRun, runCommand } from './exec.js';

const CACHE = fileURLToPath(new URL('../../../.cache/', import.meta.url));

/** What the image's base is made of; the cache folder is named by its hash, so a change makes a new one. */
export const ROOTFS_RECIPE = {
  suite: 'bookworm',
  variant: 'minbase',
  include: ['tini', 'procps', 'ca-certificates'],
  /** The image's own user, as node:20-bookworm-slim has it: the example's `USER node`. */
  user: { name: 'node', uid: 1000 },
} as const;

const DEBOOTSTRAP_TIMEOUT_MS = 15 * 60_000;
/** A lock older than this is left over from a run that was killed (a debootstrap takes ~3 minutes). */
const STALE_LOCK_MS = 30 * 60_000;

/** The cached rootfs folder for {@link ROOTFS_RECIPE}: `.cache/rootfs-container-<hash>`. */
export function rootfsDir(): string {
  const digest = createHash('sha256').update(JSON.stringify(ROOTFS_RECIPE)).digest('hex').slice(0, 12);
  return join(CACHE, `rootfs-container-${digest}`);
}

/**
 * The debootstrapped bookworm minbase rootfs with tini, procps and ca-certificates and the user uid 1000,
 * built on first use from the mirror apt uses and cached: it is made under a temporary name and renamed
 * when complete, so a run killed half-way never leaves a folder that looks finished. A lock folder keeps
 * two runs from building it at once.
 */
export async function ensureRootfs(log: (line: string) => void): Promise<string> {
  const dir = rootfsDir();
  if (existsSync(join(dir, 'etc', 'os-release'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const lock = `${dir}.lock`;
  if (!takeLock(lock)) {
    log(`containers: waiting for another run that builds ${dir} (lock ${lock})`);
    await pollUntil(() => !existsSync(lock), `the other build of ${dir} to finish (remove ${lock} if none runs)`, { timeoutMs: DEBOOTSTRAP_TIMEOUT_MS, intervalMs: 1000 });
    if (existsSync(join(dir, 'etc', 'os-release'))) return dir;
    throw new Error(`containers: another run gave up building ${dir}; run the tests again`);
  }
  const temp = `${dir}.tmp-${process.pid}`;
  try {
    // Holding the lock, any other temporary folder is left over from a run that was killed.
    for (const entry of readdirSync(CACHE)) if (entry.startsWith(`${basename(dir)}.tmp-`)) await removeTree(join(CACHE, entry));
    const mirror = aptMirror(ROOTFS_RECIPE.suite);
    log(`containers: debootstrapping ${ROOTFS_RECIPE.suite} ${ROOTFS_RECIPE.variant} from ${mirror} into ${temp} (about 3 minutes, once)`);
    const started = Date.now();
    const include = `--include=${ROOTFS_RECIPE.include.join(',')}`;
    await mustRun('debootstrap', [`--variant=${ROOTFS_RECIPE.variant}`, include, ROOTFS_RECIPE.suite, temp, mirror], { timeoutMs: DEBOOTSTRAP_TIMEOUT_MS });
    const { name, uid } = ROOTFS_RECIPE.user;
    await mustRun('chroot', [temp, 'useradd', '--uid', String(uid), '--user-group', '--create-home', '--shell', '/bin/sh', name], { timeoutMs: 60_000 });
    // apt's lists and debootstrap's downloads are no part of an image.
    for (const sub of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
      for (const entry of readdirSync(join(temp, sub))) if (entry.endsWith('.deb') || entry.includes('_dists_')) rmSync(join(temp, sub, entry), { force: true });
    }
    renameSync(temp, dir);
    log(`containers: rootfs ready in ${((Date.now() - started) / 1000).toFixed(0)} s: ${dir}`);
    return dir;
  } finally {
    await removeTree(temp);
    rmSync(lock, { recursive: true, force: true });
  }
}

function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
    rmSync(lock, { recursive: true, force: true });
    return takeLock(lock);
  }
}

/**
 * Removes a half-made rootfs. debootstrap mounts /proc and /sys inside its target and leaves them mounted
 * when killed: those are unmounted first, so that removing the tree never reaches into the host's /proc.
 */
async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await runCommand('umount', ['-l', point], { timeoutMs: 30_000 });
  rmSync(dir, { recursive: true, force: true });
}
