import { resolve } from 'node:path';
import { deadlineOn, type Clock } from '../clock.js';
import { DEFAULT_FILE } from '../config/find-config.js';
import { loadMetricsSections } from '../config/load.js';
import { ConfigError, ExitCode, SecretvisorError } from '../errors.js';
import type { CommandContext } from './context.js';
import { finalizeMetrics, metricsAddressFor } from '../health/metrics-config.js';
import type { HealthReport } from '../health/health-report.js';
import { formatStatusTable } from '../health/format-status.js';

const TIMEOUT_MS = 5_000;

/**
 * `secretvisor status`: asks the running instance of this config (and
 * service) for its `/status`, on the address of `metrics:`, and prints it as
 * a table or, with --json, as it came. Exit 0 when healthy, 1 when it
 * answered unhealthy, 69 when nothing answers, 78 without `metrics:`.
 */
export async function statusCommand(context: CommandContext<'status'>): Promise<number> {
  // Only metrics: and scopes: are read: the rest may need the service's own environment (${CREDENTIALS_DIRECTORY}).
  const where = resolve(context.cwd, context.configFile ?? DEFAULT_FILE);
  const raw = await loadMetricsSections(where, context.env);
  const scopes = {
    services: new Map(Object.entries(raw.scopes?.services ?? {})),
    pools: new Map(Object.entries(raw.scopes?.pools ?? {}).map(([service, pools]) => [service, new Map(Object.entries(pools))])),
  };
  const metrics = finalizeMetrics(raw.metrics, scopes);
  if (metrics === undefined) {
    throw new ConfigError(`${where} has no metrics: section, so secretvisor run opens no listener for status to ask`, {
      hint: 'add metrics: { listen: 127.0.0.1:9464 } to the config and restart the service',
    });
  }
  const { host, port } = metricsAddressFor(metrics, context.identity);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/status`;
  const text = await fetchStatus({ url, where, clock: context.clock });
  const report = JSON.parse(text) as HealthReport;
  const { service, pool } = context.identity;
  if ((service !== undefined && report.service !== service) || (pool !== undefined && report.pool !== pool)) {
    const asked = pool === undefined ? `service "${service}"` : `pool "${pool}" of service "${service}"`;
    const answered = report.service === null ? 'no named service' : report.pool === null ? `service "${report.service}"` : `pool "${report.pool}" of service "${report.service}"`;
    throw new SecretvisorError(ExitCode.unavailable, `${url} answers for ${answered}, not ${asked}`, {
      hint: pool === undefined ? `give service "${service}" its own port in metrics.services.${service}` : `give the pool its own port in metrics.pools.${service}.${pool}`,
    });
  }
  context.stdout.write(context.options.json === true ? text : formatStatusTable(report));
  return report.healthy ? ExitCode.ok : ExitCode.failure;
}

async function fetchStatus({ url, where, clock }: { readonly url: string; readonly where: string; readonly clock: Clock }): Promise<string> {
  const deadline = deadlineOn(clock, TIMEOUT_MS);
  try {
    return await readStatus(url, where, deadline.signal);
  } finally {
    deadline.cancel();
  }
}

async function readStatus(url: string, where: string, signal: AbortSignal): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new SecretvisorError(ExitCode.unavailable, `nothing answers at ${url} (${cause}): no secretvisor run of ${where} is listening there`, {
      hint: 'start the service, or check metrics.listen (and -s SERVICE for metrics.services) in the config',
    });
  }
  const text = await response.text();
  if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('application/json')) {
    throw new SecretvisorError(ExitCode.unavailable, `${url} answered HTTP ${response.status}, not secretvisor's status: is another program listening on that port?`, {
      hint: 'pick a free port in metrics.listen',
    });
  }
  return text;
}
