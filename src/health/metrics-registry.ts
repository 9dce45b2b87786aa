import { RESTART_REASONS, type HealthReport } from './health-report.js';

/** Renders the Prometheus text exposition of a report. */
export interface MetricsRenderer {
  readonly contentType: string;
  render(report: HealthReport): Promise<string>;
}

type Client = typeof import('prom-client');

/**
 * The metrics of docs/operations.md, on a registry of their own (prom-client
 * is loaded here, only when `metrics:` is configured). Every metric is filled
 * from the report at scrape time; labels are source names and restart
 * reasons only, and no metric ever carries a value. Node's process metrics
 * (`process_*`, `nodejs_*`) come with them.
 */
export async function createMetricsRenderer(): Promise<MetricsRenderer> {
  const client: Client = await import('prom-client');
  const registry = new client.Registry();
  // prom-client samples event-loop delay every 10 ms by default: a timer that kept an idle supervisor at
  // 0.5 % of a core (bench: health). Once a second still shows a loop stuck for longer.
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1_000 });
  let current: HealthReport | undefined;
  const report = (): HealthReport => current as HealthReport;
  const registers = [registry];
  const time = (iso: string | null): number | undefined => (iso === null ? undefined : Date.parse(iso) / 1000);

  const gauge = (name: string, help: string, fill: (set: (value: number) => void) => void): void => {
    new client.Gauge({
      name,
      help,
      registers,
      collect() {
        this.reset();
        fill((value) => this.set(value));
      },
    });
  };
  const perSource = (name: string, help: string, valueOf: (source: HealthReport['sources'][number]) => number | undefined | null): void => {
    new client.Gauge({
      name,
      help,
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const source of report().sources) {
          const value = valueOf(source);
          if (value !== undefined && value !== null) this.set({ source: source.name }, value);
        }
      },
    });
  };
  const counter = (name: string, help: string, labelNames: readonly string[], fill: (inc: (labels: Record<string, string>, value: number) => void) => void): void => {
    new client.Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        // The report holds the totals: the counter shows them as they are.
        this.reset();
        fill((labels, value) => this.inc(labels, value));
      },
    });
  };

  gauge('secretvisor_healthy', '1 when the child runs, is ready and no source is stale (what /healthz answers 200 for).', (set) => set(report().healthy ? 1 : 0));
  gauge('secretvisor_child_up', '1 while the child runs.', (set) => set(report().child.up ? 1 : 0));
  gauge('secretvisor_child_ready', '1 once the running child is ready.', (set) => set(report().child.ready ? 1 : 0));
  gauge('secretvisor_child_start_time_seconds', 'When the running child started, in seconds since the epoch.', (set) => {
    const started = time(report().child.startedAt);
    if (started !== undefined) set(started);
  });
  counter('secretvisor_child_restarts_total', 'Child restarts, by reason: rotation (new secrets), crash (it exited), signal (it was killed).', ['reason'], (inc) => {
    for (const reason of RESTART_REASONS) inc({ reason }, report().child.restarts[reason]);
  });
  counter('secretvisor_rotations_total', 'Changes of secrets that reached the child (by restart, signal, or nothing to do).', [], (inc) => inc({}, report().rotations));
  counter(
    'secretvisor_rotations_rejected_total',
    'New sets of secrets refused (invalid data, a missing required key, an overlap rotation whose new child failed); the child kept its last good ones.',
    [],
    (inc) => inc({}, report().rotationsRejected),
  );
  gauge('secretvisor_last_rotation_timestamp_seconds', 'When the last change of secrets reached the child, in seconds since the epoch.', (set) => {
    const at = time(report().lastRotationAt);
    if (at !== undefined) set(at);
  });
  perSource('secretvisor_source_last_success_timestamp_seconds', 'When the source was last read successfully, in seconds since the epoch.', (source) => time(source.lastSuccessAt));
  perSource('secretvisor_source_consecutive_failures', 'Failed reads of the source since its last successful one.', (source) => source.consecutiveFailures);
  counter('secretvisor_source_failures_total', 'Failed reads of the source.', ['source'], (inc) => {
    for (const source of report().sources) inc({ source: source.name }, source.failuresTotal);
  });
  perSource('secretvisor_source_stale', "1 when the child runs on the source's values older than its refresh allows, or from the cache.", (source) => (source.stale ? 1 : 0));
  perSource('secretvisor_source_refresh_seconds', 'How often the source is re-read (refresh:); staleness is judged against it.', (source) => source.refreshSeconds);
  perSource('secretvisor_source_from_cache', "1 when the child runs on the source's values from the last-good cache.", (source) => (source.fromCache ? 1 : 0));
  perSource('secretvisor_source_cache_age_seconds', 'Age of the cached values the child runs on, when it runs on the cache.', (source) => source.cacheAgeSeconds);
  perSource('secretvisor_source_lease_remaining_seconds', 'Seconds left on the Vault lease of dynamic credentials, or on the certificate of a pki source.', (source) => source.leaseSecondsLeft);
  perSource('secretvisor_secret_last_changed_timestamp_seconds', 'When the secret last changed, where the source knows it (file mtime, KV v2 created_time, AWS LastChangedDate).', (source) =>
    time(source.secretUpdatedAt),
  );
  perSource('secretvisor_secret_age_seconds', 'Seconds since the secret last changed, where the source knows it: the rotation-age policy, watched continuously.', (source) => source.secretAgeSeconds);

  return {
    contentType: registry.contentType,
    async render(next) {
      current = next;
      return registry.metrics();
    },
  };
}
