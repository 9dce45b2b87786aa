import type { Logger } from '../../log.js';
import type { SecretValue } from '../../secret-value.js';
import { SingleTimer, type Clock } from '../../clock.js';
import { VaultRequestError, type VaultHttp } from './vault-http.js';
import { getNumber } from './json-fields.js';
import { getFailureReason, vaultFailureKind } from './vault-failure.js';
import { getReissueDelay, getRenewDelay, getRetryDelay } from './schedule.js';
import type { LeaseInfo } from './secret-response.js';
import type { TokenSession } from './token-session.js';

/** What a {@link LeaseKeeper} needs. */
export interface LeaseKeeperOptions {
  readonly http: VaultHttp;
  readonly session: Pick<TokenSession, 'getToken' | 'handleRejected'>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Called when the credentials must be re-issued: the next `read` then asks Vault for new ones. */
  readonly onReissue: (reason: string) => void;
}

interface HeldLease {
  readonly info: LeaseInfo;
  /** The token the credentials were issued with: Vault revokes them when that token ends. */
  readonly issuedWith: SecretValue | undefined;
  expiresAt: number;
}

/**
 * Keeps dynamic credentials alive. A renewable lease is renewed at about
 * 2/3 of its duration, for as long as renewals give its full duration; one
 * that cannot be renewed (or comes back shorter, capped by its max TTL) is marked for
 * re-issue at 85–90 % of what is left, with jitter. A renewal that fails is
 * retried with backoff until that point. Renewing changes no value, so it
 * never restarts the child; a re-issue does, once. Vault revokes a lease
 * with the token that was issued it, whatever the lease's own TTL, so when
 * the session logs in with a new token the held credentials are re-issued
 * under it too, while the old token still lives.
 */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  readonly #timer: SingleTimer;
  #current: HeldLease | undefined;
  #earlier: HeldLease[] = [];
  #reissueDue = false;
  #failures = 0;
  #stopped = false;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.#timer = new SingleTimer(options.clock, { keepAlive: false });
  }

  /** Starts keeping newly issued credentials (issued with `issuedWith`); the ones held before are kept only to be revoked. */
  hold(info: LeaseInfo, issuedWith?: SecretValue): void {
    const now = this.#options.clock.now();
    this.#earlier = this.#earlier.filter((lease) => lease.expiresAt > now);
    if (this.#current !== undefined) this.#earlier.push(this.#current);
    this.#current = { info, issuedWith, expiresAt: now + info.durationMs };
    this.#reissueDue = false;
    this.#failures = 0;
    this.#scheduleFor(info.durationMs, info.renewable);
  }

  /** True while the held credentials are live and not due for re-issue: a read can answer with them. */
  get isCurrent(): boolean {
    const lease = this.#current;
    return lease !== undefined && !this.#reissueDue && lease.expiresAt > this.#options.clock.now();
  }

  /** When the held credentials' lease ends (ms since the epoch, as renewed); undefined when none is held. */
  get expiresAt(): number | undefined {
    return this.#current?.expiresAt;
  }

  /**
   * The session logged in again and now holds `token`. Credentials issued
   * with the old token die with it (Vault revokes a token's leases when it
   * expires or is revoked), so they are re-issued now, under the new one.
   */
  handleNewToken(token: SecretValue): void {
    const lease = this.#current;
    if (lease?.issuedWith === undefined || lease.issuedWith.equals(token) || this.#reissueDue) return;
    this.#timer.cancel();
    this.#markDue('they were issued with the previous Vault token, and Vault revokes them when that token ends');
  }

  /** Stops renewing. */
  stop(): void {
    this.#stopped = true;
    this.#timer.cancel();
  }

  /** Revokes every lease this source was issued that has not expired (`revokeOnExit`); failures are logged, not thrown. */
  async revokeAll(): Promise<void> {
    const now = this.#options.clock.now();
    const live = [...this.#earlier, ...(this.#current === undefined ? [] : [this.#current])].filter((lease) => lease.expiresAt > now);
    this.#earlier = [];
    this.#current = undefined;
    for (const lease of live) {
      try {
        const token = await this.#options.session.getToken();
        await this.#options.http.call({ method: 'PUT', path: 'sys/leases/revoke', token, body: { lease_id: lease.info.id } });
        this.#options.log.info({ leaseId: lease.info.id }, 'revoked the lease');
      } catch (error) {
        this.#options.log.warn({ leaseId: lease.info.id }, `could not revoke the lease: ${getFailureReason(error)}`);
      }
    }
  }

  #scheduleFor(ttlMs: number, renew: boolean): void {
    if (this.#stopped) return;
    const random = this.#options.clock.random();
    if (renew) this.#timer.schedule(getRenewDelay(ttlMs, random), () => void this.#renew());
    else this.#timer.schedule(getReissueDelay(ttlMs, random), () => this.#markDue('the lease is near its end and cannot be renewed'));
  }

  async #renew(): Promise<void> {
    const lease = this.#current;
    if (lease === undefined || this.#stopped) return;
    let token: SecretValue | undefined;
    try {
      token = await this.#options.session.getToken();
      const body = { lease_id: lease.info.id, increment: Math.round(lease.info.durationMs / 1000) };
      // Vault counts the new duration from when it handled the request: count it from before it was sent.
      const sentAt = this.#options.clock.now();
      const response = (await this.#options.http.call({ method: 'PUT', path: 'sys/leases/renew', token, body })) as Record<string, unknown>;
      if (this.#current !== lease || this.#stopped) return;
      const durationMs = getNumber(response, 'lease_duration') * 1000;
      lease.expiresAt = sentAt + durationMs;
      this.#failures = 0;
      this.#options.log.debug({ leaseId: lease.info.id, ttlSeconds: durationMs / 1000 }, 'renewed the lease');
      const elapsed = this.#options.clock.now() - sentAt;
      if (response.renewable === true && durationMs >= lease.info.durationMs) {
        this.#timer.schedule(Math.max(0, getRenewDelay(durationMs, this.#options.clock.random()) - elapsed), () => void this.#renew());
        return;
      }
      // A renewal that gives less than the lease's full duration has hit the role's max TTL: re-issue when the
      // next renewal would have been due, with a third of what is left to spare (a real OpenBao showed that
      // renewing on while half a TTL came back, or waiting for 85-90 % of a short remainder, re-issued too late).
      const reason = response.renewable === true ? 'the lease reached its max TTL' : 'the lease is near its end and cannot be renewed';
      this.#timer.schedule(Math.max(0, getRenewDelay(durationMs, this.#options.clock.random()) - elapsed), () => this.#markDue(reason));
    } catch (error) {
      if (this.#current !== lease || this.#stopped) return;
      await this.#handleRenewFailure(lease, error, token);
    }
  }

  async #handleRenewFailure(lease: HeldLease, error: unknown, token: SecretValue | undefined): Promise<void> {
    const remaining = lease.expiresAt - this.#options.clock.now();
    if ((error instanceof VaultRequestError && error.status === 400) || remaining <= 0) {
      this.#markDue(`the lease can no longer be renewed: ${getFailureReason(error)}`);
      return;
    }
    const deadline = getReissueDelay(remaining, this.#options.clock.random());
    if (vaultFailureKind(error, 'read') === 'denied' && token !== undefined && !(await this.#options.session.handleRejected(token))) {
      const message = "the token's policy does not allow renewing the lease; it will be re-issued before it expires";
      this.#options.log.warn({ leaseId: lease.info.id }, message);
      this.#timer.schedule(deadline, () => this.#markDue('the lease is near its end and cannot be renewed'));
      return;
    }
    this.#failures += 1;
    const retryMs = getRetryDelay(this.#failures, this.#options.clock.random());
    const retryInMs = Math.round(Math.min(retryMs, deadline));
    this.#options.log.warn({ leaseId: lease.info.id, retryInMs }, `could not renew the lease: ${getFailureReason(error)}`);
    if (retryMs < deadline) this.#timer.schedule(retryMs, () => void this.#renew());
    else this.#timer.schedule(deadline, () => this.#markDue('the lease could not be renewed before its end'));
  }

  #markDue(reason: string): void {
    if (this.#stopped) return;
    this.#reissueDue = true;
    this.#options.log.info({ leaseId: this.#current?.info.id }, `re-issuing dynamic credentials: ${reason}`);
    this.#options.onReissue(reason);
  }
}
