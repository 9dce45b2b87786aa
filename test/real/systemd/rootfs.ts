import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE = fileURLToPath(new URL('../../../.cache/', import.meta.url));
const SUITE = 'bookworm';
const VARIANT = 'minbase';
/** What the booted system needs: systemd as PID 1, D-Bus for systemctl, ps/kill, ip, TLS roots. */
const PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'procps', 'iproute2', 'ca-certificates'];
const SOURCES_DIR = '/etc/apt/sources.list.d';
const BUILD_TIMEOUT_MS = 20 * 60_000;

/** The cached rootfs folder for this package list: its name carries a hash of suite, variant and packages. */
export function rootfsDir(): string {
  const digest = createHash('sha256').update(JSON.stringify({ SUITE, VARIANT, PACKAGES })).digest('hex').slice(0, 12);
  return join(CACHE, `rootfs-systemd-${digest}`);
}

/**
 * The Debian mirror this machine's apt uses for `bookworm`, read from the deb822 `.sources` files (then
 * the one-line `sources.list`), so the rootfs comes from the same, reachable mirror.
 */
export function aptMirror(): string {
  const candidates: string[] = [];
  const files = existsSync(SOURCES_DIR) ? readdirSync(SOURCES_DIR).filter((name) => name.endsWith('.sources')) : [];
  for (const file of files.sort()) {
    for (const stanza of readFileSync(join(SOURCES_DIR, file), 'utf8').split(/\n\s*\n/)) {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (field('Types').includes('deb') && field('Suites').includes(SUITE)) candidates.push(...field('URIs'));
    }
  }
  if (existsSync('/etc/apt/sources.list')) {
    for (const line of readFileSync('/etc/apt/sources.list', 'utf8').split('\n')) {
      const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (match?.[2] === SUITE) candidates.push(match[1] as string);
    }
  }
  const mirror = candidates[0];
  if (mirror === undefined) {
    throw new Error(`no apt source for ${SUITE} in ${SOURCES_DIR}/*.sources or /etc/apt/sources.list: add the Debian mirror there (URIs: ... Suites: ${SUITE})`);
  }
  return mirror;
}

/**
 * Returns the cached bookworm rootfs, building it first if needed (debootstrap, about 3 minutes). It is
 * built under a temporary name and renamed when complete, so a folder with the final name is always whole;
 * a lock folder makes a second test run wait instead of building it twice. The rootfs stays pristine:
 * machines boot it with a tmpfs overlay on top.
 */
export function ensureRootfs(log: (line: string) => void): string {
  const dir = rootfsDir();
  if (existsSync(dir)) return dir;
  mkdirSync(CACHE, { recursive: true });
  const lock = `${dir}.lock`;
  try {
    mkdirSync(lock);
  } catch {
    waitForOtherBuild(dir, lock);
    return dir;
  }
  const building = `${dir}.building-${process.pid}`;
  try {
    rmSync(building, { recursive: true, force: true });
    const mirror = aptMirror();
    log(`real-systemd: debootstrap ${SUITE} (${PACKAGES.join(',')}) from ${mirror} into ${building}`);
    const started = Date.now();
    execFileSync('debootstrap', [`--variant=${VARIANT}`, `--include=${PACKAGES.join(',')}`, SUITE, building, mirror], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: BUILD_TIMEOUT_MS,
    });
    // The host's node is bind-mounted here (bookworm has no Node 20): the mount point must exist.
    writeFileSync(join(building, 'usr/bin/node'), '');
    renameSync(building, dir);
    log(`real-systemd: rootfs ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return dir;
  } finally {
    rmSync(building, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}

function waitForOtherBuild(dir: string, lock: string): void {
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  while (!existsSync(dir)) {
    if (!existsSync(lock)) throw new Error(`real-systemd: another build of ${dir} stopped before it finished; run the tests again`);
    if (Date.now() > deadline) throw new Error(`real-systemd: gave up waiting for another build (${lock}); remove it if no test run is building`);
    execFileSync('sleep', ['1']);
  }
}
