import { sourceCommon } from '../../helpers/source-config.js';
import type { VaultAuthConfig, VaultSourceConfig } from '../../../src/config/config.js';
import { finalizeVaultAuth } from '../../../src/config/finalize-vault-auth.js';
import type { RawVaultAuth } from '../../../src/config/schema.js';

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
