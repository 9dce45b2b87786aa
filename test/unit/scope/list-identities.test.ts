import { describe, expect, it } from 'vitest';
import type { ScopesConfig } from '../../../src/config/config.js';
import { listIdentities } from '../../../src/scope/list-identities.js';
import type { Identity } from '../../../src/scope/resolve-layers.js';

const none = { service: undefined, pool: undefined };

describe('listIdentities', () => {
  it.each<[string, ScopesConfig, Identity[]]>([
    ['no scopes: the global scope alone', { global: ['a'], services: new Map(), pools: new Map() }, [none]],
    [
      'each service, then each of its pools',
      {
        global: [],
        services: new Map([
          ['frontend', []],
          ['worker', ['w']],
        ]),
        pools: new Map([
          [
            'worker',
            new Map([
              ['finance', ['f']],
              ['legal', ['l']],
            ]),
          ],
        ]),
      },
      [none, { service: 'frontend', pool: undefined }, { service: 'worker', pool: undefined }, { service: 'worker', pool: 'finance' }, { service: 'worker', pool: 'legal' }],
    ],
    [
      'a service named only under scopes.pools, once',
      {
        global: [],
        services: new Map([['worker', []]]),
        pools: new Map([
          ['batch', new Map([['nightly', ['n']]])],
          ['worker', new Map()],
        ]),
      },
      [none, { service: 'worker', pool: undefined }, { service: 'batch', pool: undefined }, { service: 'batch', pool: 'nightly' }],
    ],
  ])('%s', (_name, scopes, identities) => {
    expect(listIdentities(scopes)).toEqual(identities);
  });
});
