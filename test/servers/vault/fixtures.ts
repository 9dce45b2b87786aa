import { sourceCommon } from '../../helpers/source-config.js';
import type { VaultSourceConfig } from '../../../src/config/config.js';

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
