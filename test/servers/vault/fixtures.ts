import { Writable } from 'node:stream';
import { pino } from 'pino';
import { sourceCommon } from '../../helpers/source-config.js';
import type { VaultSourceConfig } from '../../../src/config/config.js';
import type { Logger } from '../../../src/log.js';

/** A finalized Vault source config for tests: token auth, 5 min refresh, strict permissions, unless overridden. */
export function vaultSourceConfig(overrides: Partial<VaultSourceConfig> & Pick<VaultSourceConfig, 'address' | 'path'>): VaultSourceConfig {
  return {
    ...sourceCommon('core'),
    type: 'vault',
    namespace: undefined,
    caCert: undefined,
    auth: { method: 'token' },
    revokeOnExit: false,
    timeoutMs: 2_000,
    redirectOrigins: new Set(),
    maxResponseBytes: 1024 * 1024,
    ...overrides,
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
