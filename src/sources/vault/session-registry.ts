import type { VaultSourceConfig } from '../../config/config.js';
import type { TokenSession } from './token-session.js';

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
export class SessionRegistry {
  readonly #entries = new Map<string, { readonly session: TokenSession; users: number }>();

  /** The session for `key`, made by `create` when there is none yet. */
  acquire(key: string, create: () => TokenSession): TokenSession {
    const entry = this.#entries.get(key) ?? { session: create(), users: 0 };
    entry.users += 1;
    this.#entries.set(key, entry);
    return entry.session;
  }

  /** Gives up one use of the session for `key`, closing it after the last. */
  release(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    this.#entries.delete(key);
    entry.session.close();
  }

  /** How many sessions are open, for tests. */
  get size(): number {
    return this.#entries.size;
  }
}

/** The registry every Vault source in this process shares. */
export const sharedSessions = new SessionRegistry();
