import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';

const issued = new Set<string>();

/**
 * A fresh random secret value, remembered so that {@link expectNoLeak} can
 * look for it. The `label` only makes failures readable; it is not secret.
 */
export function randomSecret(label = 'secret'): string {
  const value = `${label}-${randomBytes(12).toString('hex')}`;
  issued.add(value);
  return value;
}

/** Remembers a secret made elsewhere (a server's root token, issued credentials) so {@link expectNoLeak} looks for it too; returns it. */
export function trackSecret(value: string): string {
  if (value.length >= 8) issued.add(value);
  return value;
}

/** Every secret issued in this test file so far. */
export function issuedSecrets(): readonly string[] {
  return [...issued];
}

/** Fails when any secret issued in this file appears in `text` (log output, error text, a file). */
export function expectNoLeak(text: string, where = 'output'): void {
  const leaked = [...issued].filter((value) => text.includes(value));
  expect(leaked, `secret values leaked into ${where}`).toEqual([]);
}
