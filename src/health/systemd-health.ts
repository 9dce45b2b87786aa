import { repeatOn, type Clock, type SingleTimer } from '../clock.js';
import type { Logger } from '../log.js';
import type { HealthModel } from './health-model.js';
import { formatStatusLine } from './status-line.js';

/** What {@link startSystemdHealth} needs. */
export interface SystemdHealthOptions {
  readonly model: HealthModel;
  /** Sends one notification to systemd (the run's notifier). */
  readonly notify: (state: string) => void;
  /** secretvisor's own environment: WATCHDOG_USEC and WATCHDOG_PID come from here. */
  readonly env: NodeJS.ProcessEnv;
  readonly pid: number;
  /** The status refresh and the watchdog pings run on it. */
  readonly clock: Clock;
  readonly log: Logger;
}

// The line shows uptime in minutes: looking this often keeps it current without a send per second.
const STATUS_REFRESH_MS = 15_000;

/**
 * Keeps systemd's `STATUS=` current (sent when the line changes: on every
 * health event, and when the uptime ticks over), and, when systemd asks for
 * a watchdog (`WatchdogSec=` sets WATCHDOG_USEC, and WATCHDOG_PID if set is
 * our pid), sends `WATCHDOG=1` at half the interval. The pings come from a
 * timer of the event loop: a loop blocked by a hang runs no timer, systemd
 * misses the ping and restarts the service. Returns the stop.
 */
export function startSystemdHealth(options: SystemdHealthOptions): () => void {
  let sent: string | undefined;
  const update = (): void => {
    const report = options.model.report();
    const line = formatStatusLine(report, Date.parse(report.now));
    if (line === sent) return;
    sent = line;
    options.notify(`STATUS=${line}`);
  };
  const unsubscribe = options.model.onChange(update);
  const statusTimer = repeatOn(options.clock, STATUS_REFRESH_MS, update);
  update();
  const intervalMs = watchdogIntervalMs(options);
  let watchdogTimer: SingleTimer | undefined;
  if (intervalMs !== undefined) {
    options.log.debug({ intervalMs }, `systemd watchdog: sending WATCHDOG=1 every ${intervalMs} ms`);
    watchdogTimer = repeatOn(options.clock, intervalMs, () => options.notify('WATCHDOG=1'));
    options.notify('WATCHDOG=1');
  }
  return () => {
    unsubscribe();
    statusTimer.cancel();
    watchdogTimer?.cancel();
  };
}

/** Half of WATCHDOG_USEC in ms, when the watchdog is meant for this process; undefined otherwise. */
function watchdogIntervalMs(options: Pick<SystemdHealthOptions, 'env' | 'pid' | 'log'>): number | undefined {
  const usecText = options.env.WATCHDOG_USEC;
  if (usecText === undefined || usecText === '') return undefined;
  const pidText = options.env.WATCHDOG_PID;
  // systemd sets WATCHDOG_PID to the main pid; a value for another process (our parent's) is not ours to answer.
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== options.pid) return undefined;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) {
    options.log.warn({ watchdogUsec: usecText }, `WATCHDOG_USEC=${usecText} is not a positive number of microseconds: no watchdog pings; check WatchdogSec= in the unit`);
    return undefined;
  }
  return Math.max(1, Math.floor(usec / 2000));
}
