import type { SourceCommon } from '../../src/config/config.js';

/** The settings every finalized source has, at their defaults, for building source configs in tests and benches. */
export function sourceCommon(name: string, overrides: Partial<SourceCommon> = {}): SourceCommon {
  return {
    name,
    keys: undefined,
    prefix: '',
    required: [],
    sanitize: false,
    upcase: false,
    permissions: 'strict',
    asEnv: true,
    allowNames: new Set(),
    refreshMs: 300_000,
    ...overrides,
  };
}
