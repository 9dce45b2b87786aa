import { SingleTimer, type Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { failureKindOf } from '../sources/failure-kind.js';
import type { CloseOptions, SecretSource, Snapshot } from '../sources/source.js';
import type { CacheStore, CachedSnapshot } from './cache-store.js';

// The first background retry after starting from the cache; the source set's own backoff follows.
const FIRST_RETRY_MS = 1_000;

/** What a {@link CachedSource} needs besides the source it wraps. */
export interface CachedSourceOptions {
  readonly store: CacheStore;
  /** An entry older than this is not served. */
  readonly maxAgeMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * A remote source with a last-good cache: every good read is saved
 * (encrypted); when the first read at start-up finds the source unreachable,
 * a cache entry younger than `maxAgeMs` is served instead, with a warning
 * naming the source and the age, and a re-read is due soon after, whose
 * fresh values apply as a normal change. A denial deletes the entry.
 */
export class CachedSource implements SecretSource {
  readonly #inner: SecretSource;
  readonly #store: CacheStore;
  readonly #maxAgeMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #retry: SingleTimer;
  #readOnce = false;
  #servedFromCache = false;

  constructor(inner: SecretSource, options: CachedSourceOptions) {
    this.#inner = inner;
    this.#store = options.store;
    this.#maxAgeMs = options.maxAgeMs;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#retry = new SingleTimer(options.clock, { keepAlive: false });
  }

  get name(): string {
    return this.#inner.name;
  }

  get kind(): SecretSource['kind'] {
    return this.#inner.kind;
  }

  async read(signal: AbortSignal): Promise<Snapshot> {
    const name = this.name;
    try {
      const snapshot = await this.#inner.read(signal);
      this.#readOnce = true;
      await this.#store.save(name, { snapshot, savedAt: this.#clock.now() }).catch((error: unknown) => {
        this.#log.warn({ source: name, err: describeError(error) }, `source "${name}": could not update its cache: ${describeError(error)}`);
      });
      return snapshot;
    } catch (error) {
      const kind = failureKindOf(error);
      // Denied or not found (never unreachable): the cache must not outlive that.
      if (kind === 'denied' || kind === 'not-found') {
        if (await this.#store.remove(name).catch(() => false)) this.#log.warn({ source: name }, `source "${name}" denied the read: its cache entry is deleted (revocation wins over availability)`);
        throw error;
      }
      if (this.#readOnce || kind !== 'transient') throw error;
      this.#readOnce = true;
      const cached = await this.#loadFresh();
      if (cached === undefined) throw error;
      const ageSeconds = Math.round((this.#clock.now() - cached.savedAt) / 1000);
      this.#log.warn(
        { source: name, cacheAgeSeconds: ageSeconds, err: describeError(error) },
        `source "${name}" is unreachable (${describeError(error)}); starting from its cache, saved ${ageSeconds}s ago; retrying in the background`,
      );
      this.#servedFromCache = true;
      return { ...cached.snapshot, cachedAt: new Date(cached.savedAt) };
    }
  }

  watch(onDue: (reason: string) => void): void | Promise<void> {
    if (this.#servedFromCache) this.#retry.schedule(FIRST_RETRY_MS, () => onDue('retry after starting from the cache'));
    return this.#inner.watch(onDue);
  }

  leaseExpiresAt(): number | undefined {
    return this.#inner.leaseExpiresAt?.();
  }

  close(options?: CloseOptions): Promise<void> {
    this.#retry.cancel();
    return this.#inner.close(options);
  }

  async #loadFresh(): Promise<CachedSnapshot | undefined> {
    const name = this.name;
    let cached;
    try {
      cached = await this.#store.load(name);
    } catch (error) {
      this.#log.warn({ source: name, err: describeError(error) }, `source "${name}": its cache entry cannot be read (${describeError(error)}); not used`);
      return undefined;
    }
    if (cached === undefined) return undefined;
    const age = this.#clock.now() - cached.savedAt;
    if (age > this.#maxAgeMs) {
      this.#log.warn({ source: name, cacheAgeSeconds: Math.round(age / 1000) }, `source "${name}": its cache entry is ${Math.round(age / 1000)}s old, older than cache.maxAge: not used`);
      return undefined;
    }
    return cached;
  }
}
