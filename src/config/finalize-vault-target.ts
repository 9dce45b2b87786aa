import { ConfigError } from '../errors.js';
import type { PkiIssueConfig } from './config.js';
import { DEFAULTS } from './defaults.js';
import { parseDuration } from './duration.js';
import type { RawSource } from './schema.js';

/** What a Vault source asks Vault for: the path it reads, or the PKI role it has certificates issued by. */
export interface VaultTarget {
  readonly path: string;
  readonly pki: PkiIssueConfig | undefined;
}

/**
 * Settles `path` or `pki` (exactly one) of a Vault source. A certificate is
 * issued by POST `{mount}/issue/{role}`: that is its path. Vault's lifetimes
 * are whole seconds, and a margin as long as the lifetime asked for would
 * have every certificate re-issued the moment it arrives.
 */
export function finalizeVaultTarget(name: string, raw: Extract<RawSource, { type: 'vault' }>): VaultTarget {
  const { pki } = raw;
  if ((raw.path === undefined) === (pki === undefined)) {
    throw new ConfigError(`sources.${name}: a vault source needs exactly one of path and pki`, {
      hint: 'set path: secret/data/app to read a secret, or pki: { role: …, commonName: … } to have a certificate issued',
    });
  }
  if (pki === undefined) return { path: (raw.path as string).replace(/^\/+/, ''), pki: undefined };
  if (raw.revokeOnExit !== undefined) {
    throw new ConfigError(`sources.${name}: revokeOnExit applies to leases, and a pki certificate has none`, {
      hint: 'remove revokeOnExit: (a certificate ends at its notAfter; keep ttl short instead)',
    });
  }
  const ttlMs = pki.ttl === undefined ? undefined : parseDuration(pki.ttl);
  if (ttlMs !== undefined && (ttlMs < 1_000 || ttlMs % 1_000 !== 0)) {
    throw new ConfigError(`sources.${name}.pki.ttl: ${pki.ttl} is not a whole number of seconds`, { hint: 'Vault issues for whole seconds: use 90s, 10m, 24h' });
  }
  const renewBeforeMs = parseDuration(pki.renewBefore ?? DEFAULTS.pkiRenewBefore);
  if (ttlMs !== undefined && pki.renewBefore !== undefined && renewBeforeMs >= ttlMs) {
    throw new ConfigError(`sources.${name}.pki.renewBefore: ${pki.renewBefore} is not shorter than ttl ${pki.ttl}`, {
      hint: 'renewBefore is the margin left before notAfter: make it a fraction of ttl, such as a third',
    });
  }
  const mount = (pki.mount ?? DEFAULTS.pkiMount).replace(/^\/+|\/+$/g, '');
  return {
    path: `${mount}/issue/${pki.role}`,
    pki: {
      mount,
      role: pki.role,
      commonName: pki.commonName,
      altNames: pki.altNames ?? [],
      ipSans: pki.ipSans ?? [],
      ttlSeconds: ttlMs === undefined ? undefined : ttlMs / 1_000,
      renewBeforeMs,
    },
  };
}
