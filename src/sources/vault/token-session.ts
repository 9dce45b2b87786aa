import type { Logger } from '../../log.js';
import type { SecretValue } from '../../secret-value.js';
import { SingleTimer, type Clock } from '../../clock.js';
import { raceAbort, type VaultHttp } from './vault-http.js';
import { getNumber, getObject } from './json-fields.js';
import type { VaultLogin } from './vault-login.js';
import { getFailureReason, vaultFailureKind } from './vault-failure.js';
import { getRenewDelay, getRetryDelay } from './schedule.js';

/** What a {@link TokenSession} needs: how to log in, and the client and clock to renew with. */
export interface TokenSessionOptions {
  readonly http: VaultHttp;
  readonly login: () => Promise<VaultLogin>;
  readonly clock: Clock;
  readonly log: Logger;
}

interface Held {
  readonly token: SecretValue;
  /** The TTL at login, to tell a renewal that extends from one capped by the max TTL. */
  readonly loginTtlMs: number;
  /** Epoch ms; undefined for a token that never expires. */
  readonly expiresAt: number | undefined;
}

// Never renew or retry in a tighter loop than this, however short the TTL.
const MIN_DELAY_MS = 100;

/**
 * One Vault token kept alive for every source that shares it. Logs in on
 * first use; renews at about 2/3 of the TTL; when a renewal fails, or the
 * token cannot be renewed (any more), logs in again before it expires,
 * retrying with backoff (1 s doubling to 5 min, jittered). Dynamic leases
 * are not its business: a new token never re-issues secrets.
 */
export class TokenSession {
  readonly #options: TokenSessionOptions;
  readonly #timer: SingleTimer;
  #held: Held | undefined;
  #pending: Promise<VaultLogin> | undefined;
  #failures = 0;
  #closed = false;
  /** The last token a login gave, kept past `#held` being dropped, to tell a new token from the same one re-read. */
  #lastLogin: SecretValue | undefined;
  readonly #newTokenListeners = new Set<(token: SecretValue) => void>();

  constructor(options: TokenSessionOptions) {
    this.#options = options;
    this.#timer = new SingleTimer(options.clock, { keepAlive: false });
  }

  /** A live token: the held one, or a fresh login (shared with any login already under way). */
  async getToken(signal?: AbortSignal): Promise<SecretValue> {
    const held = this.#held;
    if (held !== undefined && (held.expiresAt === undefined || held.expiresAt > this.#options.clock.now())) return held.token;
    return (await raceAbort(this.#authenticate(held === undefined ? 'first use' : 'the token expired'), signal)).token;
  }

  /**
   * After Vault denied a request made with `token` (401, 403): checks whether
   * the token itself is dead (then drops it, so the next `getToken` logs in)
   * or only the policy refused. True when retrying with a new token may help.
   */
  async handleRejected(token: SecretValue): Promise<boolean> {
    const held = this.#held;
    if (held === undefined || !held.token.equals(token)) return true;
    try {
      await this.#options.http.call({ method: 'GET', path: 'auth/token/lookup-self', token });
      return false;
    } catch (error) {
      if (this.#held !== held) return true;
      if (vaultFailureKind(error, 'read') !== 'denied') return false;
      this.#options.log.warn('Vault no longer accepts the token (revoked or expired); authenticating again');
      this.#held = undefined;
      this.#timer.cancel();
      return true;
    }
  }

  /**
   * Calls `listener` with the new token each time a login gives a token
   * other than the one before (not on the first login, nor on renewals);
   * returns the function that stops the calls.
   */
  onNewToken(listener: (token: SecretValue) => void): () => void {
    this.#newTokenListeners.add(listener);
    return () => this.#newTokenListeners.delete(listener);
  }

  /** Stops renewing. The token is left to expire: other processes never shared it, and revoking it would revoke its leases early. */
  close(): void {
    this.#closed = true;
    this.#timer.cancel();
  }

  #authenticate(reason: string): Promise<VaultLogin> {
    this.#pending ??= this.#options
      .login()
      .then((login) => {
        this.#adopt(login, login.ttlMs);
        this.#options.log.info({ reason, ttlSeconds: login.ttlMs / 1000, renewable: login.renewable }, 'authenticated to Vault');
        const previous = this.#lastLogin;
        this.#lastLogin = login.token;
        if (previous !== undefined && !previous.equals(login.token)) for (const listener of this.#newTokenListeners) listener(login.token);
        return login;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  #adopt(login: VaultLogin, loginTtlMs: number): void {
    const now = this.#options.clock.now();
    this.#held = { token: login.token, loginTtlMs, expiresAt: login.ttlMs > 0 ? now + login.ttlMs : undefined };
    this.#failures = 0;
    if (this.#closed || login.ttlMs === 0) {
      this.#timer.cancel();
      return;
    }
    const delay = Math.max(MIN_DELAY_MS, getRenewDelay(login.ttlMs, this.#options.clock.random()));
    // A renewal shorter than the TTL at login means the max TTL caps it: log in again instead, with a third
    // of a TTL or more left for it (and for re-issuing the leases issued under this token, which die with it).
    const renew = login.renewable && login.ttlMs >= loginTtlMs;
    this.#timer.schedule(delay, () => (renew ? void this.#renew() : this.#reauthenticate('the token is near the end of its life')));
  }

  async #renew(): Promise<void> {
    const held = this.#held;
    if (held === undefined || this.#closed) return;
    try {
      const response = await this.#options.http.call({ method: 'POST', path: 'auth/token/renew-self', token: held.token, body: {} });
      if (this.#held !== held || this.#closed) return;
      const auth = getObject(response, 'auth');
      const ttlMs = getNumber(auth, 'lease_duration') * 1000;
      this.#adopt({ token: held.token, ttlMs, renewable: auth?.renewable === true }, held.loginTtlMs);
      this.#options.log.debug({ ttlSeconds: ttlMs / 1000 }, 'renewed the Vault token');
    } catch (error) {
      this.#options.log.warn(`could not renew the Vault token (${getFailureReason(error)}); authenticating again`);
      this.#reauthenticate('renewal failed');
    }
  }

  #reauthenticate(reason: string): void {
    if (this.#closed) return;
    this.#authenticate(reason).catch((error: unknown) => {
      if (this.#closed) return;
      this.#failures += 1;
      const held = this.#held;
      if (held?.expiresAt !== undefined && held.expiresAt <= this.#options.clock.now()) this.#held = undefined;
      const delay = Math.max(MIN_DELAY_MS, getRetryDelay(this.#failures, this.#options.clock.random()));
      this.#options.log.warn({ retryInMs: Math.round(delay), failures: this.#failures }, `Vault authentication failed: ${getFailureReason(error)}`);
      this.#timer.schedule(delay, () => this.#reauthenticate(reason));
    });
  }
}
