import { createHmac, randomBytes } from 'node:crypto';
import type { SecretValue } from '../secret-value.js';

// A per-process key: digests can be compared within this run but reveal
// nothing about low-entropy values, even if a digest reaches a log.
const DIGEST_KEY = randomBytes(32);

/** A keyed digest of key/value pairs, independent of their order; equal digests mean equal content. */
export function digestEntries(entries: Iterable<readonly [string, SecretValue | string]>): string {
  const hmac = createHmac('sha256', DIGEST_KEY);
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of sorted) {
    const text = typeof value === 'string' ? value : value.reveal();
    hmac.update(`${key.length}:${key}=${Buffer.byteLength(text)}:`);
    hmac.update(text);
  }
  return hmac.digest('hex').slice(0, 16);
}
