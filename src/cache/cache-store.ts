import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretValue } from '../secret-value.js';
import type { Snapshot } from '../sources/source.js';
import { errnoOf } from '../lib/errno.js';

/** A snapshot read back from the cache, and when it was saved. */
export interface CachedSnapshot {
  readonly snapshot: Snapshot;
  readonly savedAt: number;
}

const FORMAT = 1;

/**
 * One file per source in the cache folder, `<source>.cache`, 0600: the
 * source's last good snapshot as AES-256-GCM ciphertext under a random
 * 96-bit nonce, authenticated with the source's name, written atomically
 * (temp file, fsync, rename). Only the save time is in the clear.
 */
export class CacheStore {
  readonly #dir: string;
  readonly #key: Buffer;

  constructor(dir: string, key: Buffer) {
    this.#dir = dir;
    this.#key = key;
  }

  /** Encrypts and writes the snapshot of `source`, with the time it was saved at. */
  async save(source: string, { snapshot, savedAt }: CachedSnapshot): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const plain = JSON.stringify({ version: snapshot.version, entries: Object.fromEntries([...snapshot.entries].map(([key, value]) => [key, value.reveal()])) });
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(source));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const record = JSON.stringify({ format: FORMAT, savedAt, nonce: nonce.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') });
    const target = this.#file(source);
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(record);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  }

  /** The cached snapshot of `source`, or undefined when there is none; throws when it does not decrypt (another key, tampering). */
  async load(source: string): Promise<CachedSnapshot | undefined> {
    let text: string;
    try {
      text = await readFile(this.#file(source), 'utf8');
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return undefined;
      throw error;
    }
    const record = JSON.parse(text) as { format: number; savedAt: number; nonce: string; tag: string; data: string };
    if (record.format !== FORMAT) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(record.nonce, 'base64'));
    decipher.setAAD(Buffer.from(source));
    decipher.setAuthTag(Buffer.from(record.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(record.data, 'base64')), decipher.final()]).toString('utf8');
    const parsed = JSON.parse(plain) as { version: string; entries: Record<string, string> };
    const entries = new Map(Object.entries(parsed.entries).map(([key, value]) => [key, new SecretValue(value)]));
    return { snapshot: { entries, version: parsed.version }, savedAt: record.savedAt };
  }

  /** Deletes the entry of `source`; true when there was one. */
  async remove(source: string): Promise<boolean> {
    try {
      await unlink(this.#file(source));
      return true;
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return false;
      throw error;
    }
  }

  #file(source: string): string {
    return join(this.#dir, `${source}.cache`);
  }
}
