import type { Clock } from '../clock.js';
import type { Config, SourceConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import type { SecretSource } from '../sources/source.js';
import { loadCacheKey } from './cache-key.js';
import { CacheStore } from './cache-store.js';
import { CachedSource } from './cached-source.js';

// One store per cache folder and key: the key is read once per process.
const stores = new Map<string, Promise<CacheStore>>();

/** The source wrapped with its last-good cache when it has `cache:`; else the source itself. */
export async function cacheSource(
  source: SecretSource,
  options: { readonly config: Config; readonly source: SourceConfig; readonly env: NodeJS.ProcessEnv; readonly clock: Clock; readonly log: Logger },
): Promise<SecretSource> {
  const { cache } = options.config;
  const maxAgeMs = options.source.cacheMaxAgeMs;
  if (cache === undefined || maxAgeMs === undefined) return source;
  const id = `${cache.dir}\0${JSON.stringify(cache.key)}`;
  let store = stores.get(id);
  if (store === undefined) {
    store = loadCacheKey(cache, options.env).then((key) => new CacheStore(cache.dir, key));
    stores.set(id, store);
    store.catch(() => stores.delete(id));
  }
  return new CachedSource(source, { store: await store, maxAgeMs, clock: options.clock, log: options.log });
}
