import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A random value for a bench secret; nothing real is ever used. */
export function randomValue(): string {
  return randomBytes(12).toString('base64url');
}

/** Writes a secret file with mode 0600 whatever the umask. */
export function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A private folder for one bench run; `cleanup` removes it. */
export function benchDir(prefix: string): { readonly dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `sv-bench-${prefix}-`));
  chmodSync(dir, 0o700);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `KEY=value` lines for `count` random secrets named PREFIX_1…. */
export function dotenvText(count: number, prefix = 'SECRET'): string {
  return Array.from({ length: count }, (_, index) => `${prefix}_${index + 1}=${randomValue()}\n`).join('');
}

/**
 * A project whose config has one `directory` source of `count` files (one
 * secret each), plus `extraSources` YAML appended under `sources:`.
 */
export function makeDirectoryProject(dir: string, count: number, extraSources = '', extraTop = ''): string {
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets, { recursive: true, mode: 0o700 });
  for (let index = 1; index <= count; index++) writeSecret(join(secrets, `SECRET_${index}`), `${randomValue()}\n`);
  writeSecret(join(dir, 'secretvisor.yaml'), `version: 1\nsources:\n  files:\n    type: directory\n    path: ./secrets\n${extraSources}${extraTop}`);
  return dir;
}

/** A zero-config project: just `.env` with `count` secrets (also what dotenv-cli reads). */
export function makeDotenvProject(dir: string, count: number): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeSecret(join(dir, '.env'), dotenvText(count));
  return dir;
}

/**
 * A Kubernetes Secret volume as kubelet writes it: the files live in a
 * timestamped folder, `..data` links to it, and each key is a link through
 * `..data`. `swap` writes the next version the way kubelet does: a new
 * folder, a `..data_tmp` link, an atomic rename over `..data`, then the old
 * folder is removed.
 */
export class KubernetesVolume {
  readonly path: string;
  #version = 0;
  #current = '';

  constructor(path: string, values: Readonly<Record<string, string>>) {
    this.path = path;
    mkdirSync(path, { recursive: true, mode: 0o700 });
    this.#current = this.#writeVersion(values);
    symlinkSync(this.#current, join(path, '..data'));
    for (const key of Object.keys(values)) symlinkSync(join('..data', key), join(path, key));
  }

  /** Publishes new values; returns the time (performance.now) of the atomic rename. */
  swap(values: Readonly<Record<string, string>>): number {
    const next = this.#writeVersion(values);
    symlinkSync(next, join(this.path, '..data_tmp'));
    const at = performance.now();
    renameSync(join(this.path, '..data_tmp'), join(this.path, '..data'));
    rmSync(join(this.path, this.#current), { recursive: true, force: true });
    this.#current = next;
    return at;
  }

  #writeVersion(values: Readonly<Record<string, string>>): string {
    const name = `..2025_01_01_00_00_00.${String(++this.#version).padStart(9, '0')}`;
    mkdirSync(join(this.path, name), { mode: 0o700 });
    for (const [key, value] of Object.entries(values)) writeSecret(join(this.path, name, key), value);
    return name;
  }
}
