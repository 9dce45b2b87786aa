import { isScalar, visit, type Document } from 'yaml';

/** A key written twice in one YAML map. */
export interface DuplicateKey {
  readonly key: string;
  /** Offset of the second one in the text. */
  readonly offset: number;
}

/**
 * The first key written twice in one map, in one pass. yaml's own
 * `uniqueKeys` check compares every pair of keys of a map, which takes
 * seconds for a file of many thousand keys. Keys are equal as yaml's check
 * has them: scalars of the same value and type (`1` and `"1"` differ).
 */
export function findDuplicateKey(document: Document): DuplicateKey | undefined {
  let found: DuplicateKey | undefined;
  visit(document, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value: unknown = pair.key.value;
        const id = `${typeof value}:${String(value)}`;
        if (seen.has(id)) {
          found = { key: String(value), offset: pair.key.range?.[0] ?? 0 };
          return visit.BREAK;
        }
        seen.add(id);
      }
      return undefined;
    },
  });
  return found;
}
