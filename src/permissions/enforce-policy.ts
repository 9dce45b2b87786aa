import { chmod } from 'node:fs/promises';
import { PermissionError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PermissionPolicy } from '../config/schema.js';
import { formatMode, type PermissionFinding } from './inspect-mode.js';

/** Options of {@link enforcePolicy}. */
export interface EnforceOptions {
  readonly policy: PermissionPolicy;
  readonly log: Logger;
  /** Applies a mode under `fix`; given so an open file is fixed through its descriptor. */
  readonly applyMode?: (mode: number) => Promise<void>;
  /** False in zero-config mode: there is no config to set `permissions:` in, so the fix is the command alone. */
  readonly policyInConfig?: boolean | undefined;
}

/**
 * Acts on findings per policy: `strict` throws PermissionError (exit 77) with
 * every finding and its fix; `warn` logs them; `fix` tightens modes (logging
 * what changed) and still refuses what only a `chown` can fix.
 */
export async function enforcePolicy(findings: readonly PermissionFinding[], options: EnforceOptions): Promise<void> {
  if (findings.length === 0) return;
  if (options.policy === 'warn') {
    for (const finding of findings) options.log.warn({ path: finding.path, fix: finding.fix }, finding.problem);
    return;
  }
  const unfixable = options.policy === 'fix' ? findings.filter((f) => f.safeMode === undefined) : findings;
  if (unfixable.length > 0) {
    const fix = unfixable.map((f) => f.fix).join(' && ');
    throw new PermissionError(unfixable.map((f) => f.problem).join('; '), {
      hint: options.policyInConfig === false ? fix : `${fix} (or set permissions: warn on this source if that is intended)`,
    });
  }
  for (const finding of findings) {
    const mode = finding.safeMode as number;
    await (finding.apply ?? options.applyMode ?? ((m: number) => chmod(finding.path, m)))(mode);
    options.log.warn({ path: finding.path, mode: formatMode(mode) }, `tightened ${finding.path} to ${formatMode(mode)} (permissions: fix)`);
  }
}
