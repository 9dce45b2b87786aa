import { isFileSourceKind, type Config } from '../config/config.js';
import { describeError, isRetryable } from '../errors.js';
import type { Logger } from '../log.js';
import type { Identity } from '../scope/resolve-layers.js';
import { REMOTE_BACKOFF, backoffDelay } from '../watch/backoff.js';
import { createSource } from './create-source.js';
import { readAtStartup } from './read-at-startup.js';
import type { CloseOptions, SecretSource, Snapshot } from './source.js';
import { cacheSource } from '../cache/cache-source.js';

/** What {@link SourceSet.create} needs. */
export interface SourceSetOptions {
  readonly config: Config;
  /** The sources this service reads, by name. */
  readonly names: readonly string[];
  readonly identity: Identity;
  /** secretvisor's own environment. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** Aborts reads in flight when secretvisor stops; none for the one-shot commands. */
  readonly signal?: AbortSignal;
}

/** Snapshots after a re-read, and which sources really changed. */
export interface ReRead {
  readonly next: ReadonlyMap<string, Snapshot>;
  readonly changed: readonly string[];
}

/**
 * The sources of one service and the last good snapshot of each. A failed
 * read keeps the last good snapshot, is logged with its age, and — when it
 * may succeed later — is retried with backoff (1 s doubling to 5 min). A
 * source that had keys and suddenly yields none is not believed either.
 * New snapshots become "last good" only when the caller commits them, after
 * the whole set has been validated and applied.
 */
export class SourceSet {
  readonly #sources: Map<string, SecretSource>;
  readonly #log: Logger;
  readonly #signal: AbortSignal;
  readonly #lastGood = new Map<string, { snapshot: Snapshot; at: number }>();
  readonly #retries = new Map<string, { attempt: number; timer: NodeJS.Timeout }>();
  #onDue: ((name: string) => void) | undefined;

  private constructor(sources: Map<string, SecretSource>, log: Logger, signal: AbortSignal) {
    this.#sources = sources;
    this.#log = log;
    this.#signal = signal;
  }

  /** Creates the named sources (loading remote clients only when used); if one fails, those made already are closed. */
  static async create(options: SourceSetOptions): Promise<SourceSet> {
    const set = new SourceSet(new Map(), options.log, options.signal ?? new AbortController().signal);
    try {
      for (const name of options.names) {
        const config = options.config.sources.get(name);
        if (config === undefined) continue;
        const log = options.log.child({ component: `source:${name}` });
        const source = await createSource({ config, log, env: options.env, ...options.identity });
        const cached = await cacheSource(source, { config: options.config, source: config, env: options.env, log }).catch(async (error: unknown) => {
          await source.close();
          throw error;
        });
        set.#sources.set(name, cached);
      }
    } catch (error) {
      await set.close();
      throw error;
    }
    return set;
  }

  /** The source names, in order. */
  get names(): string[] {
    return [...this.#sources.keys()];
  }

  /** The sources read from local files. */
  get fileSourceNames(): string[] {
    return [...this.#sources.values()].filter((source) => isFileSourceKind(source.kind)).map((source) => source.name);
  }

  /** Reads every source once with the start-up retries; the result is the first last good set. */
  async readAtStartup(timeoutMs: number): Promise<ReadonlyMap<string, Snapshot>> {
    const snapshots = await readAtStartup([...this.#sources.values()], { timeoutMs, log: this.#log, signal: this.#signal });
    for (const [name, snapshot] of snapshots) this.#lastGood.set(name, { snapshot, at: Date.now() });
    return snapshots;
  }

  /** Re-reads the named sources: the last good set with every successful, changed snapshot in place. */
  async reRead(names: Iterable<string>): Promise<ReRead> {
    const next = new Map([...this.#lastGood].map(([name, good]) => [name, good.snapshot]));
    const changed: string[] = [];
    for (const name of names) {
      const snapshot = await this.#read(name);
      if (snapshot === undefined) continue;
      const good = next.get(name);
      if (snapshot.version === good?.version) {
        this.#log.debug({ source: name }, `source "${name}" re-read: unchanged`);
        continue;
      }
      if (snapshot.entries.size === 0 && (good?.entries.size ?? 0) > 0) {
        // A file truncated for rewriting, or a folder emptied before new files are copied in, looks like this.
        this.#log.error(
          { source: name, keys: 0, lastGoodKeys: good?.entries.size },
          `source "${name}" now yields no keys at all (it had ${good?.entries.size}): taken as a file being rewritten; keeping its last good secrets until it yields some`,
        );
        continue;
      }
      next.set(name, snapshot);
      changed.push(name);
    }
    return { next, changed };
  }

  /** Makes the changed snapshots of a re-read the last good ones. */
  commit(reRead: ReRead): void {
    for (const name of reRead.changed) this.#lastGood.set(name, { snapshot: reRead.next.get(name) as Snapshot, at: Date.now() });
  }

  /** Starts every source's watching; `onDue` gets a source's name whenever it is worth re-reading (events, refresh, retries). */
  async watch(onDue: (name: string) => void): Promise<void> {
    this.#onDue = onDue;
    await Promise.all(
      [...this.#sources.values()].map((source) =>
        source.watch((reason) => {
          this.#log.debug({ source: source.name, reason }, 'change noticed');
          onDue(source.name);
        }),
      ),
    );
  }

  /** Stops retries and closes every source; failures are logged, not thrown. */
  async close(options?: CloseOptions): Promise<void> {
    this.#onDue = undefined;
    for (const retry of this.#retries.values()) clearTimeout(retry.timer);
    this.#retries.clear();
    const results = await Promise.allSettled([...this.#sources.values()].map((source) => source.close(options)));
    for (const result of results) {
      if (result.status === 'rejected') this.#log.warn({ err: describeError(result.reason) }, `closing a source failed: ${describeError(result.reason)}`);
    }
  }

  async #read(name: string): Promise<Snapshot | undefined> {
    const source = this.#sources.get(name) as SecretSource;
    try {
      const snapshot = await source.read(this.#signal);
      clearTimeout(this.#retries.get(name)?.timer);
      this.#retries.delete(name);
      return snapshot;
    } catch (error) {
      const good = this.#lastGood.get(name);
      const ageSeconds = good === undefined ? undefined : Math.round((Date.now() - good.at) / 1000);
      this.#log.error({ source: name, lastGoodAgeSeconds: ageSeconds, err: describeError(error) }, `source "${name}" failed: ${describeError(error)}; keeping its last good secrets`);
      if (isRetryable(error)) this.#scheduleRetry(name);
      return undefined;
    }
  }

  #scheduleRetry(name: string): void {
    const attempt = (this.#retries.get(name)?.attempt ?? -1) + 1;
    clearTimeout(this.#retries.get(name)?.timer);
    const timer = setTimeout(() => this.#onDue?.(name), backoffDelay(attempt, REMOTE_BACKOFF));
    timer.unref();
    this.#retries.set(name, { attempt, timer });
  }
}
