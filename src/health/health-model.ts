import type { ChildEvent, ExitReason } from '../child/child-events.js';
import type { SourceConfig } from '../config/config.js';
import { systemClock, type Clock } from '../clock.js';
import type { SourceEvent } from '../sources/source-events.js';
import { RESTART_REASONS, type ChildHealth, type HealthReport, type RestartReason, type SourceHealth, type SourceState } from './health-report.js';

/** What a {@link HealthModel} needs. */
export interface HealthModelOptions {
  readonly service: string | undefined;
  readonly pool: string | undefined;
  readonly clock?: Clock;
}

interface SourceFacts {
  readonly kind: SourceConfig['type'];
  readonly refreshMs: number;
  readonly leaseExpiresAt: () => number | undefined;
  lastSuccessAt: number | undefined;
  consecutiveFailures: number;
  failuresTotal: number;
  lastError: string | undefined;
  updatedAt: Date | undefined;
  cachedAt: Date | undefined;
}

interface ChildFacts {
  pid: number | undefined;
  up: boolean;
  ready: boolean;
  startedAt: number | undefined;
  /** The child runs on the secrets from before the last rotation, whose new child was rejected. */
  previousSecrets: boolean;
  lastExit: { code: number | null; signal: string | null; reason: ExitReason; at: number } | undefined;
}

/**
 * The health of one running service, fed only by events (the child's, the
 * sources', the supervisor's changes) and read by its views: systemd's
 * STATUS=, the listener's /metrics, /healthz and /status. It decides
 * nothing the supervisor acts on; it never sees a value.
 */
export class HealthModel {
  readonly #options: HealthModelOptions;
  readonly #clock: Clock;
  readonly #startedAt: number;
  readonly #sources = new Map<string, SourceFacts>();
  readonly #child: ChildFacts = { pid: undefined, up: false, ready: false, startedAt: undefined, previousSecrets: false, lastExit: undefined };
  /** The serving child while an overlap rotation's new child is started beside it, to return to if that one is rejected. */
  #serving: Pick<ChildFacts, 'pid' | 'ready' | 'startedAt' | 'previousSecrets'> | undefined;
  readonly #restarts: Record<RestartReason, number> = { rotation: 0, crash: 0, signal: 0 };
  #rotations = 0;
  #lastRotationAt: number | undefined;
  #rotationsRejected = 0;
  readonly #listeners = new Set<() => void>();

  constructor(options: HealthModelOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#startedAt = this.#clock.now();
  }

  /** Calls `listener` after every event (to refresh a view); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Takes one of the child's events. */
  handleChildEvent(event: ChildEvent): void {
    const child = this.#child;
    switch (event.type) {
      case 'child-started':
        this.#serving = child.up ? { pid: child.pid, ready: child.ready, startedAt: child.startedAt, previousSecrets: child.previousSecrets } : undefined;
        Object.assign(child, { pid: event.pid, up: true, ready: false, startedAt: this.#clock.now(), previousSecrets: false });
        if (event.reason !== 'initial') this.#restarts[event.reason] += 1;
        break;
      case 'child-ready':
        if (event.pid === child.pid) child.ready = true;
        break;
      case 'child-exited':
        // With two children for a moment (a rotation), only the newest is "the child".
        if (event.pid !== child.pid) break;
        Object.assign(child, { up: false, ready: false });
        child.lastExit = { code: event.code, signal: event.signal, reason: event.reason, at: this.#clock.now() };
        break;
      case 'rotation-rejected':
        this.#rotationsRejected += 1;
        // The old child kept serving: it is "the child" again, on the previous secrets.
        if (event.keptPid !== undefined && event.keptPid === this.#serving?.pid) Object.assign(child, { ...this.#serving, up: true, previousSecrets: true });
        this.#serving = undefined;
        break;
    }
    this.#changed();
  }

  /** Takes one of the sources' (or the supervisor's change) events. */
  handleSourceEvent(event: SourceEvent): void {
    switch (event.type) {
      case 'source-registered':
        this.#sources.set(event.source, {
          kind: event.kind,
          refreshMs: event.refreshMs,
          leaseExpiresAt: event.leaseExpiresAt,
          lastSuccessAt: undefined,
          consecutiveFailures: 0,
          failuresTotal: 0,
          lastError: undefined,
          updatedAt: undefined,
          cachedAt: undefined,
        });
        break;
      case 'source-read': {
        const facts = this.#sources.get(event.source);
        if (facts === undefined) break;
        facts.updatedAt = event.updatedAt;
        facts.cachedAt = event.cachedAt;
        // A cache hit means the source itself could not be read.
        if (event.cachedAt !== undefined) break;
        Object.assign(facts, { lastSuccessAt: event.at, consecutiveFailures: 0, lastError: undefined });
        break;
      }
      case 'source-failed': {
        const facts = this.#sources.get(event.source);
        if (facts === undefined) break;
        facts.consecutiveFailures += 1;
        facts.failuresTotal += 1;
        // The message only: its fix line is for the log, and a table cell holds one line.
        facts.lastError = event.error.split('\n')[0];
        break;
      }
      case 'secrets-applied':
        this.#rotations += 1;
        this.#lastRotationAt = event.at;
        break;
      case 'secrets-rejected':
        this.#rotationsRejected += 1;
        break;
    }
    this.#changed();
  }

  /** Everything known now, judged: the body of `/status`. */
  report(): HealthReport {
    const now = this.#clock.now();
    const sources = [...this.#sources].map(([name, facts]) => sourceHealth(name, facts, now, this.#startedAt));
    const child = this.#childHealth(now);
    const reasons = [...childReasons(child), ...sources.filter((source) => source.stale).map(staleReason)];
    return {
      healthy: reasons.length === 0,
      reasons,
      service: this.#options.service ?? null,
      pool: this.#options.pool ?? null,
      pid: process.pid,
      startedAt: iso(this.#startedAt),
      now: iso(now),
      rotations: this.#rotations,
      lastRotationAt: this.#lastRotationAt === undefined ? null : iso(this.#lastRotationAt),
      rotationsRejected: this.#rotationsRejected,
      child,
      sources,
    };
  }

  #childHealth(now: number): ChildHealth {
    const { pid, up, ready, startedAt, previousSecrets, lastExit } = this.#child;
    return {
      up,
      ready,
      previousSecrets: up && previousSecrets,
      pid: up ? (pid ?? null) : null,
      startedAt: up && startedAt !== undefined ? iso(startedAt) : null,
      uptimeSeconds: up && startedAt !== undefined ? seconds(now - startedAt) : null,
      restarts: Object.fromEntries(RESTART_REASONS.map((reason) => [reason, this.#restarts[reason]])) as Record<RestartReason, number>,
      lastExit: lastExit === undefined ? null : { ...lastExit, at: iso(lastExit.at) },
    };
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

function sourceHealth(name: string, facts: SourceFacts, now: number, startedAt: number): SourceHealth {
  const fromCache = facts.cachedAt !== undefined;
  const lastGood = facts.lastSuccessAt ?? startedAt;
  // A source whose reads work is fresh however long ago its data changed; one whose reads fail is stale once
  // the child's values are older than its refresh promises.
  const stale = fromCache || (facts.consecutiveFailures > 0 && now - lastGood > facts.refreshMs);
  const state: SourceState = stale ? 'stale' : facts.consecutiveFailures > 0 ? 'failing' : facts.lastSuccessAt === undefined ? 'starting' : 'fresh';
  const leaseEnd = facts.leaseExpiresAt();
  return {
    name,
    kind: facts.kind,
    state,
    stale,
    refreshSeconds: seconds(facts.refreshMs),
    lastSuccessAt: facts.lastSuccessAt === undefined ? null : iso(facts.lastSuccessAt),
    consecutiveFailures: facts.consecutiveFailures,
    failuresTotal: facts.failuresTotal,
    lastError: facts.lastError ?? null,
    leaseSecondsLeft: leaseEnd === undefined ? null : Math.max(0, seconds(leaseEnd - now)),
    secretUpdatedAt: facts.updatedAt === undefined ? null : facts.updatedAt.toISOString(),
    secretAgeSeconds: facts.updatedAt === undefined ? null : Math.max(0, seconds(now - facts.updatedAt.getTime())),
    fromCache,
    cachedAt: facts.cachedAt === undefined ? null : facts.cachedAt.toISOString(),
    cacheAgeSeconds: facts.cachedAt === undefined ? null : Math.max(0, seconds(now - facts.cachedAt.getTime())),
  };
}

function childReasons(child: ChildHealth): string[] {
  if (child.up) return child.ready ? [] : ['the child is not ready yet'];
  const exit = child.lastExit;
  if (exit === null) return ['starting: the child has not started yet'];
  return [`the child is not running: it ${exit.signal === null ? `exited with code ${exit.code}` : `was ended by ${exit.signal}`} at ${exit.at}`];
}

function staleReason(source: SourceHealth): string {
  if (source.fromCache) return `source "${source.name}" is stale: the child runs on its cached values, saved ${source.cacheAgeSeconds}s ago`;
  const since = source.lastSuccessAt === null ? 'it has not been read since start-up' : `its last good read was at ${source.lastSuccessAt}`;
  return `source "${source.name}" is stale: ${since}, longer ago than its refresh (${source.refreshSeconds}s); last error: ${source.lastError}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
