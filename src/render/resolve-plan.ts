import type { Config, SourceConfig } from '../config/config.js';
import type { SecretValue } from '../secret-value.js';
import type { Logger } from '../log.js';
import type { Layer } from '../scope/resolve-layers.js';
import { mergeLayers, type ResolvedSecret, type ShapedSource } from '../scope/merge-layers.js';
import { shapeKeys } from '../sources/shape-keys.js';
import type { Snapshot } from '../sources/source.js';
import { buildPlan, type Plan } from './build-plan.js';

/** What a set of snapshots means for this service: every secret with provenance, and the child's plan. */
export interface Resolution {
  readonly secrets: ReadonlyMap<string, ResolvedSecret>;
  readonly plan: Plan;
}

/** Inputs of {@link resolvePlan}. */
export interface ResolvePlanOptions {
  readonly config: Config;
  readonly layers: readonly Layer[];
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly runtimeDir: string | undefined;
  readonly argv: readonly string[];
  readonly log: Logger;
}

/**
 * Turns the latest snapshot of every source into the child's plan: shape
 * each source's keys, merge the layers, render env and files. Throws on any
 * invalid piece, so a half-good set never reaches the child.
 */
export function resolvePlan(options: ResolvePlanOptions): Resolution {
  const shaped = new Map<string, ShapedSource>();
  for (const [name, snapshot] of options.snapshots) {
    const config = options.config.sources.get(name);
    if (config === undefined) continue;
    shaped.set(name, { entries: shapeOnce(config, snapshot, options.log), asEnv: config.asEnv });
  }
  const secrets = mergeLayers(options.layers, shaped);
  const plan = buildPlan({
    config: options.config,
    secrets,
    envSecrets: mergeLayers(options.layers, shaped, true),
    parentEnv: options.parentEnv,
    runtimeDir: options.runtimeDir,
    argv: options.argv,
  });
  return { secrets, plan };
}

// A reload re-reads only the changed sources; the others keep their snapshot
// objects, so their shaped keys are reused instead of checked again.
const shapedBySnapshot = new WeakMap<Snapshot, { readonly config: SourceConfig; readonly entries: Map<string, SecretValue> }>();

function shapeOnce(config: SourceConfig, snapshot: Snapshot, log: Logger): Map<string, SecretValue> {
  const cached = shapedBySnapshot.get(snapshot);
  if (cached?.config === config) return cached.entries;
  const entries = shapeKeys(config, snapshot, log);
  shapedBySnapshot.set(snapshot, { config, entries });
  return entries;
}
