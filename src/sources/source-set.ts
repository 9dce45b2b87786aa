import { SingleTimer, type Clock } from '../clock.js';
import { isFileSourceKind, type Config } from '../config/config.js';
import { describeError } from '../errors.js';
import { failureKindOf } from './failure-kind.js';
import type { Logger } from '../log.js';
import type { Identity } from '../scope/resolve-layers.js';
import { REMOTE_BACKOFF, backoffDelay } from '../watch/backoff.js';
import { createSource } from './create-source.js';
import { readAtStartup } from './read-at-startup.js';
import type { CloseOptions, SecretSource, Snapshot } from './source.js';
import { cacheSource } from '../cache/cache-source.js';
import type { SourceEvent } from './source-events.js';

/** What {@link SourceSet.create} needs. */
export interface SourceSetOptions {
  readonly config: Config;
  /** The sources this service reads, by name. */
  readonly names: readonly string[];
  readonly identity: Identity;
  /** secretvisor's own environment. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** The runner's clock: the sources' timers, the retries and every timestamp. */
  readonly clock: Clock;
  /** Aborts reads in flight when secretvisor stops; none for the one-shot commands. */
  readonly signal?: AbortSignal;
  /** What each source did, for health and metrics. */
  readonly onEvent?: ((event: SourceEvent) => void) | undefined;
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
  readonly #clock: Clock;
  readonly #signal: AbortSignal;
  readonly #lastGood = new Map<string, { snapshot: Snapshot; at: number }>();
  readonly #retries = new Map<string, { attempt: number; timer: SingleTimer }>();
  #onDue: ((name: string) => void) | undefined;
  /** The versions of the last set the caller rejected: the same content again is not re-validated or logged again. */
  #rejected: string | undefined;
  /** The last failure of each failing source, so a file read twice in the same broken state is logged once. */
  readonly #lastFailure = new Map<string, string>();
  readonly #onEvent: (event: SourceEvent) => void;

  private constructor(sources: Map<string, SecretSource>, options: SourceSetOptions) {
    this.#sources = sources;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#signal = options.signal ?? new AbortController().signal;
    this.#onEvent = options.onEvent ?? (() => undefined);
  }

  /** Creates the named sources (loading remote clients only when used); if one fails, those made already are closed. */
  static async create(options: SourceSetOptions): Promise<SourceSet> {
    const set = new SourceSet(new Map(), options);
    try {
      for (const name of options.names) {
        const config = options.config.sources.get(name);
        if (config === undefined) continue;
        const log = options.log.child({ component: `source:${name}` });
        const source = await createSource({ config, log, clock: options.clock, env: options.env, ...options.identity, zeroConfig: options.config.file === undefined });
        const cached = await cacheSource(source, { config: options.config, source: config, env: options.env, clock: options.clock, log }).catch(async (error: unknown) => {
          await source.close();
          throw error;
        });
        set.#sources.set(name, cached);
        set.#onEvent({ type: 'source-registered', source: name, kind: config.type, refreshMs: config.refreshMs, leaseExpiresAt: () => cached.leaseExpiresAt?.() });
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
    const onFailure = (name: string, error: unknown): void => this.#onEvent({ type: 'source-failed', source: name, at: this.#clock.now(), error: describeError(error) });
    const snapshots = await readAtStartup([...this.#sources.values()], { timeoutMs, log: this.#log, clock: this.#clock, signal: this.#signal, onFailure });
    for (const [name, snapshot] of snapshots) {
      this.#lastGood.set(name, { snapshot, at: this.#clock.now() });
      this.#reportRead(name, snapshot);
    }
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
    if (changed.length > 0 && versionsOf(next) === this.#rejected) {
      // A watch event and the settle check after it, or a refresh, see the same rejected content: it was logged once already.
      this.#log.debug({ sources: changed }, 'the re-read holds the content rejected before; still keeping the last good secrets');
      return { next, changed: [] };
    }
    return { next, changed };
  }

  /** Remembers a re-read whose set the caller refused (invalid data, a missing required key): the same content is not offered again. */
  reject(reRead: ReRead): void {
    this.#rejected = versionsOf(reRead.next);
  }

  /** Makes the changed snapshots of a re-read the last good ones. */
  commit(reRead: ReRead): void {
    this.#rejected = undefined;
    for (const name of reRead.changed) this.#lastGood.set(name, { snapshot: reRead.next.get(name) as Snapshot, at: this.#clock.now() });
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
    for (const retry of this.#retries.values()) retry.timer.cancel();
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
      this.#retries.get(name)?.timer.cancel();
      this.#retries.delete(name);
      this.#lastFailure.delete(name);
      this.#reportRead(name, snapshot);
      return snapshot;
    } catch (error) {
      const good = this.#lastGood.get(name);
      const ageSeconds = good === undefined ? undefined : Math.round((this.#clock.now() - good.at) / 1000);
      const kind = failureKindOf(error);
      if (kind === 'transient') {
        this.#log.error({ source: name, failure: kind, lastGoodAgeSeconds: ageSeconds, err: describeError(error) }, `source "${name}" failed: ${describeError(error)}; keeping its last good secrets`);
        this.#scheduleRetry(name);
      } else if (isFileSourceKind(source.kind) && this.#lastFailure.get(name) === describeError(error)) {
        // A watch event and the settle check after it read the same broken file: it was logged once already.
        this.#log.debug({ source: name, failure: kind }, `source "${name}" still fails the same way; keeping its last good secrets`);
      } else {
        // Waiting will not change a refusal or a missing secret: no backoff retries, only the next change or refresh.
        this.#log.error(
          { source: name, failure: kind, permanent: true, lastGoodAgeSeconds: ageSeconds, err: describeError(error) },
          `source "${name}" failed permanently (${kind}): ${describeError(error)}; keeping its last good secrets; read again on its next change or refresh`,
        );
      }
      this.#lastFailure.set(name, describeError(error));
      this.#onEvent({ type: 'source-failed', source: name, at: this.#clock.now(), error: describeError(error) });
      return undefined;
    }
  }

  #reportRead(name: string, snapshot: Snapshot): void {
    this.#onEvent({ type: 'source-read', source: name, at: this.#clock.now(), updatedAt: snapshot.updatedAt, cachedAt: snapshot.cachedAt });
  }

  #scheduleRetry(name: string): void {
    const retry = this.#retries.get(name);
    const attempt = (retry?.attempt ?? -1) + 1;
    const timer = retry?.timer ?? new SingleTimer(this.#clock, { keepAlive: false });
    timer.schedule(backoffDelay(attempt, { ...REMOTE_BACKOFF, random: () => this.#clock.random() }), () => this.#onDue?.(name));
    this.#retries.set(name, { attempt, timer });
  }
}

/** One string for the versions of a whole set, to recognise the same content. */
function versionsOf(snapshots: ReadonlyMap<string, Snapshot>): string {
  return JSON.stringify([...snapshots].map(([name, snapshot]) => [name, snapshot.version]));
}
