import { findConfig } from '../config/find-config.js';
import { toConfigFlags } from '../config/config-flags.js';
import { handleSignals } from '../early-signals.js';
import { findCommand } from '../child/find-command.js';
import { wrapForPid1 } from '../child/pid1.js';
import { getChildUser } from '../child/resolve-user.js';
import { Supervisor } from '../supervisor.js';
import { createNotifier } from '../systemd/notify.js';
import type { CommandContext } from './context.js';
import { holdSockets } from '../listen/hold-sockets.js';
import { HealthModel } from '../health/health-model.js';
import { metricsAddressFor } from '../health/metrics-config.js';
import { startSystemdHealth } from '../health/systemd-health.js';
import type { MetricsServer } from '../health/metrics-server.js';

/** Signals `run` takes over: the first two stop the child, the rest are forwarded to it. */
export const HANDLED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGQUIT', 'SIGWINCH', 'SIGCONT', 'SIGTSTP'];

/** `secretvisor run`: supervise a command with its secrets; resolves with the exit code. */
export async function runCommand(context: CommandContext<'run'>): Promise<number> {
  let config = await findConfig({ file: context.configFile, cwd: context.cwd, env: context.env, flags: toConfigFlags(context.options) });
  const [program, ...args] = context.childArgv as [string, ...string[]];
  // A check whose program is missing would only fail at ready.timeout; found here, it runs even with inherit: none.
  const { ready } = config;
  if (ready?.check.kind === 'command') {
    const [checkProgram, ...checkArgs] = ready.check.argv;
    config = { ...config, ready: { ...ready, check: { kind: 'command', argv: [findCommand(checkProgram, context.env.PATH), ...checkArgs] } } };
  }
  const childUser = await getChildUser(config);
  const held = await holdSockets({ config, env: context.env, pid: process.pid, childUser, log: context.log });
  // The LISTEN_PID shim goes inside tini: the program, not tini, must have the pid it names.
  const command = wrapForPid1(held.wrap({ file: findCommand(program, context.env.PATH), args }), {
    isPid1: process.pid === 1,
    path: context.env.PATH,
    log: context.log,
  });
  // With a terminal, the child stays in its foreground group so it can read
  // the keyboard and gets Ctrl-C from it; otherwise it leads its own group.
  const ownGroup = !(process.stdin.isTTY ?? false) || process.pid === 1;
  const notifier = createNotifier({ env: context.env, log: context.log });
  const health = new HealthModel({ ...context.identity, clock: context.clock });
  const supervisor = new Supervisor({
    config,
    identity: context.identity,
    command,
    parentEnv: held.parentEnv,
    log: context.log,
    clock: context.clock,
    once: context.options.once === true,
    ownGroup,
    childUser,
    notify: notifier?.notify,
    inheritedFds: held.fds,
    onChildEvent: (event) => health.handleChildEvent(event),
    onSourceEvent: (event) => health.handleSourceEvent(event),
  });
  handleSignals(HANDLED_SIGNALS, (signal) => {
    supervisor.handleSignal(signal);
    // Ctrl-Z: the child's group is stopped (by the terminal, or by the
    // forward above); now stop ourselves too, as a job control shell expects.
    if (signal === 'SIGTSTP') process.kill(process.pid, 'SIGSTOP');
  });
  let metrics: MetricsServer | undefined;
  let stopSystemdHealth: (() => void) | undefined;
  try {
    if (config.metrics !== undefined) {
      // node:http and prom-client load only when the listener is configured.
      const { startMetricsServer } = await import('../health/metrics-server.js');
      metrics = await startMetricsServer({ address: metricsAddressFor(config.metrics, context.identity), model: health, log: context.log });
    }
    if (notifier !== undefined) stopSystemdHealth = startSystemdHealth({ model: health, notify: notifier.notify, env: context.env, pid: process.pid, clock: context.clock, log: context.log });
    return await supervisor.run();
  } finally {
    stopSystemdHealth?.();
    await metrics?.close();
    // systemd-notify reports secretvisor's PID as the sender, so it must finish while secretvisor lives.
    await notifier?.settled();
    await held.close();
  }
}
