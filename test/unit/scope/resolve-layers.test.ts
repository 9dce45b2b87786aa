import { describe, expect, it } from 'vitest';
import type { ScopesConfig } from '../../../src/config/config.js';
import { UsageError } from '../../../src/errors.js';
import { resolveLayers, sourcesOf, type Identity, type Layer } from '../../../src/scope/resolve-layers.js';
import { thrownBy } from '../../helpers/thrown.js';

// The platform of test/integration/run-scopes.test.ts, with a service that has pools but no sources of its own.
const SCOPES: ScopesConfig = {
  global: ['platform'],
  services: new Map([
    ['frontend', []],
    ['worker', ['worker-keys']],
  ]),
  pools: new Map([
    ['worker', new Map([['finance', ['finance']]])],
    ['batch', new Map([['nightly', ['nightly', 'platform']]])],
  ]),
};
const NO_SCOPES: ScopesConfig = { global: ['platform'], services: new Map(), pools: new Map() };

const identity = (service?: string, pool?: string): Identity => ({ service, pool });

describe('resolveLayers', () => {
  it.each<[string, Identity, Layer[]]>([
    ['no service: the global scope alone', identity(), [{ scope: 'global', sources: ['platform'] }]],
    [
      'a service with no sources of its own',
      identity('frontend'),
      [
        { scope: 'global', sources: ['platform'] },
        { scope: 'service', sources: [] },
      ],
    ],
    [
      'a service',
      identity('worker'),
      [
        { scope: 'global', sources: ['platform'] },
        { scope: 'service', sources: ['worker-keys'] },
      ],
    ],
    [
      'a pool of a service, last',
      identity('worker', 'finance'),
      [
        { scope: 'global', sources: ['platform'] },
        { scope: 'service', sources: ['worker-keys'] },
        { scope: 'pool', sources: ['finance'] },
      ],
    ],
    [
      'a service named only under scopes.pools',
      identity('batch'),
      [
        { scope: 'global', sources: ['platform'] },
        { scope: 'service', sources: [] },
      ],
    ],
    [
      'a pool of a service named only under scopes.pools',
      identity('batch', 'nightly'),
      [
        { scope: 'global', sources: ['platform'] },
        { scope: 'service', sources: [] },
        { scope: 'pool', sources: ['nightly', 'platform'] },
      ],
    ],
  ])('%s', (_name, who, layers) => {
    expect(resolveLayers(SCOPES, who)).toEqual(layers);
  });

  it.each<[string, ScopesConfig, Identity, string, string]>([
    ['a pool without a service', SCOPES, identity(undefined, 'finance'), '--pool finance needs --service', 'add --service NAME (or SECRETVISOR_SERVICE)'],
    ['an unknown service', SCOPES, identity('nope'), 'unknown service "nope"', 'use one of: frontend, worker, batch'],
    ['a service when none is configured', NO_SCOPES, identity('nope'), 'unknown service "nope"', 'use one of: (none configured under scopes:)'],
    ['an unknown pool', SCOPES, identity('worker', 'nope'), 'unknown pool "nope" of service "worker"', 'use one of: finance'],
    ['a pool of a service without pools', SCOPES, identity('frontend', 'nope'), 'unknown pool "nope" of service "frontend"', 'use one of: (no pools configured under scopes.pools.frontend)'],
  ])('refuses %s with a usage error naming the known ones', (_name, scopes, who, message, hint) => {
    const error = thrownBy(() => resolveLayers(scopes, who));
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ message, hint, exitCode: 64 });
  });
});

describe('sourcesOf', () => {
  it.each<[string, Identity, string[]]>([
    ['the global scope', identity(), ['platform']],
    ['every layer, in order', identity('worker', 'finance'), ['platform', 'worker-keys', 'finance']],
    ['a source in two layers once, where it first comes', identity('batch', 'nightly'), ['platform', 'nightly']],
  ])('%s', (_name, who, sources) => {
    expect(sourcesOf(resolveLayers(SCOPES, who))).toEqual(sources);
  });
});
