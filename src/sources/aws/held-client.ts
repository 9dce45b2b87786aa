import type { Logger } from '../../log.js';
import type { ServiceLease } from './aws-client.js';
import { isExpiredCredentialsError } from './aws-errors.js';

/** What an AWS source needs to hold one shared client. */
export interface HeldClientOptions<L> {
  /** Borrows the client (with the role assumed, when the source has one). */
  readonly acquire: () => Promise<L>;
  readonly log: Logger;
  /** The error a failed call becomes, naming the operation (the SDK's error is never shown as it is). */
  readonly toError: (operation: string, error: unknown) => unknown;
}

/** The client of one AWS source: borrowed on the first call, kept across calls, given back on close. */
export interface HeldClient<L> {
  /** Runs `send` with the client; a failure is thrown as `toError` makes it. */
  call<T>(operation: string, send: (held: L) => Promise<T>): Promise<T>;
  /** Gives the client back. */
  release(): Promise<void>;
}

/**
 * Holds one AWS client for a source. A failed borrow is tried again at the next call; when AWS says the
 * credentials expired, the client is discarded so that the next call starts with fresh ones (the SDK
 * would keep trusting its cached credentials).
 */
export function holdClient<L extends ServiceLease<unknown, unknown>>(options: HeldClientOptions<L>): HeldClient<L> {
  let lease: Promise<L> | undefined;
  const borrow = (): Promise<L> => {
    lease ??= options.acquire().catch((error: unknown) => {
      lease = undefined;
      throw error;
    });
    return lease;
  };
  return {
    async call(operation, send) {
      const leased = borrow();
      const held = await leased.catch((error: unknown) => {
        throw options.toError(operation, error);
      });
      try {
        return await send(held);
      } catch (error) {
        if (isExpiredCredentialsError(error) && lease === leased) {
          options.log.warn({ operation }, 'AWS says the credentials expired; the next read starts with fresh ones');
          lease = undefined;
          held.discard();
        }
        throw options.toError(operation, error);
      }
    },
    async release() {
      const held = lease;
      lease = undefined;
      if (held !== undefined) (await held.catch(() => undefined))?.release();
    },
  };
}
