import type { Plan } from './build-plan.js';

/** What differs between the running plan and a new one, by name only. */
export interface PlanDiff {
  readonly envChanged: boolean;
  readonly filesChanged: boolean;
  /** Env names added, removed or with another value. */
  readonly envNames: readonly string[];
  /** File outputs whose content or mode differ. */
  readonly filePaths: readonly string[];
}

/** Compares two plans; names, never values, so the result can be logged. */
export function diffPlans(running: Plan, next: Plan): PlanDiff {
  const envNames = new Set<string>();
  if (running.envDigest !== next.envDigest) {
    for (const [name, value] of next.env) {
      const old = running.env.get(name);
      if (old === undefined || !old.equals(value)) envNames.add(name);
    }
    for (const name of running.env.keys()) if (!next.env.has(name)) envNames.add(name);
  }
  const filePaths = new Set<string>();
  if (running.filesDigest !== next.filesDigest) {
    const old = new Map(running.files.map((file) => [file.path, file]));
    for (const file of next.files) {
      const before = old.get(file.path);
      if (before === undefined || before.mode !== file.mode || !before.content.equals(file.content)) filePaths.add(file.path);
    }
  }
  return {
    envChanged: running.envDigest !== next.envDigest,
    filesChanged: running.filesDigest !== next.filesDigest,
    envNames: [...envNames].sort(),
    filePaths: [...filePaths].sort(),
  };
}
