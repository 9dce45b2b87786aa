import { describe, expect, it } from 'vitest';
import { mergeLayers, type ShapedSource } from '../../../src/scope/merge-layers.js';
import type { Layer } from '../../../src/scope/resolve-layers.js';
import { SecretValue } from '../../../src/secret-value.js';

// Key names and source names only: the values are plain labels, compared through reveal().
function shaped(entries: Record<string, string>, asEnv = true): ShapedSource {
  return { entries: new Map(Object.entries(entries).map(([key, value]) => [key, new SecretValue(value)])), asEnv };
}

const SHAPED = new Map<string, ShapedSource>([
  ['platform', shaped({ DB_PASSWORD: 'platform-db', SHARED: 'platform-shared' })],
  ['worker-keys', shaped({ LLM_API_KEY: 'worker-key', SHARED: 'worker-shared' })],
  ['finance', shaped({ LLM_API_KEY: 'finance-key', BANKING_TOKEN: 'finance-token' })],
  ['templates', shaped({ DB_PASSWORD: 'template-db', TEMPLATE_ONLY: 'template-only' }, false)],
  ['second', shaped({ SHARED: 'second-shared' })],
]);

const GLOBAL: Layer = { scope: 'global', sources: ['platform'] };
const WORKER: Layer = { scope: 'service', sources: ['worker-keys'] };
const FINANCE: Layer = { scope: 'pool', sources: ['finance'] };

/** Each merged key as "value from source (scope), over overridden sources". */
function provenance(layers: readonly Layer[], envOnly = false): Record<string, string> {
  const merged = mergeLayers(layers, SHAPED, envOnly);
  return Object.fromEntries(
    [...merged].map(([key, secret]) => [
      key,
      `${secret.value.reveal()} from ${secret.source} (${secret.scope}${secret.asEnv ? '' : ', not env'})${secret.overrides.length > 0 ? ` over ${secret.overrides.join(', ')}` : ''}`,
    ]),
  );
}

describe('mergeLayers', () => {
  it.each<[string, Layer[], boolean, Record<string, string>]>([
    ['the global scope alone', [GLOBAL], false, { DB_PASSWORD: 'platform-db from platform (global)', SHARED: 'platform-shared from platform (global)' }],
    [
      'a service over the global scope',
      [GLOBAL, WORKER],
      false,
      { DB_PASSWORD: 'platform-db from platform (global)', SHARED: 'worker-shared from worker-keys (service) over platform', LLM_API_KEY: 'worker-key from worker-keys (service)' },
    ],
    [
      'a pool over the service over the global scope',
      [GLOBAL, WORKER, FINANCE],
      false,
      {
        DB_PASSWORD: 'platform-db from platform (global)',
        SHARED: 'worker-shared from worker-keys (service) over platform',
        LLM_API_KEY: 'finance-key from finance (pool) over worker-keys',
        BANKING_TOKEN: 'finance-token from finance (pool)',
      },
    ],
    [
      'within a layer, the later source',
      [{ scope: 'global', sources: ['platform', 'worker-keys', 'second'] }],
      false,
      { DB_PASSWORD: 'platform-db from platform (global)', SHARED: 'second-shared from second (global) over platform, worker-keys', LLM_API_KEY: 'worker-key from worker-keys (global)' },
    ],
    [
      'a template-only source, for templates',
      [GLOBAL, { scope: 'service', sources: ['templates'] }],
      false,
      {
        DB_PASSWORD: 'template-db from templates (service, not env) over platform',
        SHARED: 'platform-shared from platform (global)',
        TEMPLATE_ONLY: 'template-only from templates (service, not env)',
      },
    ],
    [
      'a template-only source left out of the environment: it neither enters nor hides anything',
      [GLOBAL, { scope: 'service', sources: ['templates'] }],
      true,
      { DB_PASSWORD: 'platform-db from platform (global)', SHARED: 'platform-shared from platform (global)' },
    ],
    [
      'a source not read (not in this identity) adds nothing',
      [{ scope: 'global', sources: ['platform', 'not-read'] }],
      false,
      { DB_PASSWORD: 'platform-db from platform (global)', SHARED: 'platform-shared from platform (global)' },
    ],
    ['no layers: nothing', [], false, {}],
  ])('%s', (_name, layers, envOnly, expected) => {
    expect(provenance(layers, envOnly)).toEqual(expected);
  });

  it('keeps the order in which keys first came', () => {
    expect([...mergeLayers([GLOBAL, WORKER, FINANCE], SHAPED).keys()]).toEqual(['DB_PASSWORD', 'SHARED', 'LLM_API_KEY', 'BANKING_TOKEN']);
  });
});
