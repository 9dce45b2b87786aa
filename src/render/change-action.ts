import type { Config } from '../config/config.js';
import type { PlanDiff } from './diff-plans.js';

/** What one reload does to the child. */
export type ChangeDecision = { readonly action: 'restart' } | { readonly action: 'signal'; readonly signals: readonly NodeJS.Signals[] } | { readonly action: 'none' };

/**
 * The action for a reload in which `sources` changed: each source's own
 * `onChange`, or the global one (`env` when the environment changed, else
 * `files`). Several at once: restart wins over any signal (a restarted child
 * reads everything anew); different signals are all sent, once each, in the
 * order of the sources; none only when every source says none.
 */
export function decideChange(config: Config, sources: readonly string[], diff: PlanDiff): ChangeDecision {
  const globalAction = diff.envChanged ? config.onChange.env : config.onChange.files;
  const signals: NodeJS.Signals[] = [];
  let restart = false;
  for (const name of sources) {
    const own = config.sources.get(name)?.onChange;
    const action = own?.action ?? globalAction;
    if (action === 'restart') restart = true;
    if (action === 'signal') {
      const signal = own?.signal ?? config.onChange.signal;
      if (!signals.includes(signal)) signals.push(signal);
    }
  }
  if (restart) return { action: 'restart' };
  if (signals.length > 0) return { action: 'signal', signals };
  return { action: 'none' };
}
