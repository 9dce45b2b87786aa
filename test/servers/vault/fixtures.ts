import { Writable } from 'node:stream';
import { pino } from 'pino';
import { sourceCommon } from '../../helpers/source-config.js';
import type { VaultAuthConfig, VaultSourceConfig } from '../../../src/config/config.js';
import { finalizeVaultAuth } from '../../../src/config/finalize-vault-auth.js';
import type { RawVaultAuth } from '../../../src/config/schema.js';
import type { Logger } from '../../../src/log.js';

/** `auth:` as a config file writes it, finalized as secretvisor does (its paths taken as given, HOME from `env`). */
export function vaultAuth(raw: RawVaultAuth, env: NodeJS.ProcessEnv = {}): VaultAuthConfig {
  return finalizeVaultAuth(raw, { name: 'core', absolute: (path) => path, env });
}

/**
 * A finalized Vault source config for tests: token auth, 5 min refresh,
 * strict permissions, unless overridden; `auth` as a config writes it,
 * finalized against `env`.
 */
export function vaultSourceConfig(
  overrides: Partial<Omit<VaultSourceConfig, 'auth'>> & Pick<VaultSourceConfig, 'address' | 'path'> & { readonly auth?: RawVaultAuth },
  env: NodeJS.ProcessEnv = {},
): VaultSourceConfig {
  return {
    ...sourceCommon('core'),
    type: 'vault',
    namespace: undefined,
    caCert: undefined,
    revokeOnExit: false,
    timeoutMs: 2_000,
    redirectOrigins: new Set(),
    maxResponseBytes: 1024 * 1024,
    ...overrides,
    auth: vaultAuth(overrides.auth ?? { method: 'token' }, env),
  };
}

/** A debug-level logger whose JSON lines are kept in `text`, for leak checks and assertions on events. */
export function captureLog(): { readonly log: Logger; readonly lines: () => Record<string, unknown>[]; readonly text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = pino({ level: 'debug' }, stream);
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines, text };
}

/** Resolves once `predicate` holds, polling every 10 ms; rejects after `timeoutMs` naming `what`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
