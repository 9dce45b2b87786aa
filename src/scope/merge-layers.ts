import type { SecretValue } from '../secret-value.js';
import type { Layer, ScopeName } from './resolve-layers.js';

/** One resolved secret and where it came from. */
export interface ResolvedSecret {
  readonly value: SecretValue;
  readonly source: string;
  readonly scope: ScopeName;
  /** Whether it goes into the child's environment (`asEnv`), or only feeds templates. */
  readonly asEnv: boolean;
  /** The sources it overrode, earliest first. */
  readonly overrides: readonly string[];
}

/** A source's shaped keys and its `asEnv` setting, as the merge needs them. */
export interface ShapedSource {
  readonly entries: ReadonlyMap<string, SecretValue>;
  readonly asEnv: boolean;
}

/**
 * Merges the layers in order — global < service < pool, and within a layer
 * in the order listed — so the later source wins per key, keeping provenance.
 * With `envOnly`, template-only sources (`asEnv: false`) are left out, so
 * they neither enter nor hide anything in the child's environment.
 */
export function mergeLayers(layers: readonly Layer[], shaped: ReadonlyMap<string, ShapedSource>, envOnly = false): Map<string, ResolvedSecret> {
  const merged = new Map<string, ResolvedSecret>();
  for (const layer of layers) {
    for (const sourceName of layer.sources) {
      const source = shaped.get(sourceName);
      if (source === undefined || (envOnly && !source.asEnv)) continue;
      for (const [key, value] of source.entries) {
        const earlier = merged.get(key);
        const overrides = earlier === undefined ? [] : [...earlier.overrides, earlier.source];
        merged.set(key, { value, source: sourceName, scope: layer.scope, asEnv: source.asEnv, overrides });
      }
    }
  }
  return merged;
}
