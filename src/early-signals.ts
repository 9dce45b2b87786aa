// Imported first by main.ts, before any other module runs. Without a SIGUSR1
// listener, Node opens its inspector on 127.0.0.1:9229 when it gets SIGUSR1,
// and any local user could then read every secret from memory.

type SignalHandler = (signal: NodeJS.Signals) => void;

let handler: SignalHandler | undefined;
const queued: NodeJS.Signals[] = [];

const onSignal = (signal: NodeJS.Signals): void => {
  if (handler === undefined) queued.push(signal);
  else handler(signal);
};

process.on('SIGUSR1', onSignal);

/**
 * Takes over the signals secretvisor handles: queued ones are delivered at
 * once, later ones as they come. A handler is installed for each, which also
 * makes SIGTERM and SIGINT work when secretvisor is PID 1.
 */
export function handleSignals(signals: readonly NodeJS.Signals[], next: SignalHandler): void {
  handler = next;
  for (const signal of signals) if (signal !== 'SIGUSR1') process.on(signal, onSignal);
  for (const signal of queued.splice(0)) next(signal);
}
