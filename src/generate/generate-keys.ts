import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';
import { generateDirectoryKeys } from './generate-directory.js';
import { generateDotenvKeys } from './generate-dotenv.js';

/** What generating did for one source: the keys it created (names only). */
export interface GeneratedSource {
  readonly source: string;
  readonly path: string;
  readonly created: readonly string[];
  /** The keys of its `generate:` that were there already. */
  readonly present: readonly string[];
}

/** What {@link generateKeys} needs besides the config. */
export interface GenerateKeysOptions {
  readonly log: Logger;
  /** A second generate waits for the first one's lock on it. */
  readonly clock: Clock;
}

/**
 * Creates the missing `generate:` keys of the named sources (those without
 * `generate:` are skipped), in order; the first failure stops it with the
 * source's error. Each creation is logged by key name, never by value.
 */
export async function generateKeys(config: Config, names: readonly string[], { log, clock }: GenerateKeysOptions): Promise<GeneratedSource[]> {
  const results: GeneratedSource[] = [];
  for (const name of names) {
    const source = config.sources.get(name);
    if (source === undefined || (source.type !== 'dotenv' && source.type !== 'directory') || source.generate.size === 0) continue;
    const sourceLog = log.child({ component: `source:${name}` });
    const created = source.type === 'dotenv' ? await generateDotenvKeys(source, { log: sourceLog, clock }) : await generateDirectoryKeys(source, sourceLog);
    if (created.length > 0) {
      sourceLog.info({ source: name, keys: created, path: source.path }, `source "${name}": generated ${created.join(', ')} in ${source.path}`);
    }
    results.push({ source: name, path: source.path, created, present: [...source.generate.keys()].filter((key) => !created.includes(key)) });
  }
  return results;
}
