import type { VaultSourceConfig } from '../../config/config.js';
import type { TokenSession } from './token-session.js';
import { SharedByKey } from '../../lib/shared-by-key.js';

/**
 * The key sources share a token under: the same Vault (address), the same
 * namespace and the same auth settings mean the same identity, so one
 * login and one renewal schedule serve them all.
 */
export function getSessionKey(config: Pick<VaultSourceConfig, 'address' | 'namespace' | 'auth'>): string {
  const auth = Object.fromEntries(
    Object.entries(config.auth)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return JSON.stringify([config.address.replace(/\/+$/, ''), config.namespace ?? '', auth]);
}

/** Token sessions by key, counted by user; the last user to release one closes it. */
export type SessionRegistry = SharedByKey<TokenSession>;

/** An empty registry. */
export function createSessionRegistry(): SessionRegistry {
  return new SharedByKey((session) => session.close());
}

/** The registry every Vault source in this process shares. */
export const sharedSessions = createSessionRegistry();
