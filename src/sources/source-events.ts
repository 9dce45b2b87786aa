import type { SourceConfig } from '../config/config.js';

/**
 * What the sources of a service did, for health and metrics: each source is
 * `source-registered` once, then every read reports `source-read` or
 * `source-failed`; the supervisor adds `secrets-applied` when a change
 * reached the child and `secrets-rejected` when a new set was refused.
 * Events are sent synchronously, never carry a value (an error is its
 * message, which names keys and paths only), and a listener must not throw.
 */
export type SourceEvent =
  | {
      readonly type: 'source-registered';
      readonly source: string;
      readonly kind: SourceConfig['type'];
      readonly refreshMs: number;
      /** When the source's current lease ends (Vault dynamic credentials); undefined when it holds none. */
      readonly leaseExpiresAt: () => number | undefined;
    }
  | {
      readonly type: 'source-read';
      readonly source: string;
      readonly at: number;
      /** When the secret last changed, where the source knows it. */
      readonly updatedAt: Date | undefined;
      /** Set when the values came from the last-good cache: when they were saved. */
      readonly cachedAt: Date | undefined;
    }
  | { readonly type: 'source-failed'; readonly source: string; readonly at: number; readonly error: string }
  | { readonly type: 'secrets-applied'; readonly sources: readonly string[]; readonly at: number }
  | { readonly type: 'secrets-rejected'; readonly sources: readonly string[]; readonly at: number };
