import { describe, expect, it } from 'vitest';
import { interpolateEnv } from '../../../src/config/interpolate.js';

describe('interpolateEnv', () => {
  it('replaces ${NAME} in every string, deep, and keeps $$ as $', () => {
    const result = interpolateEnv({ a: '${X}/y', b: ['${X}', 3, true], c: { d: 'cost $$5 and $HOME' } }, { X: 'v' });
    expect(result).toEqual({ a: 'v/y', b: ['v', 3, true], c: { d: 'cost $5 and $HOME' } });
  });

  it('names the config path of an undefined variable', () => {
    expect(() => interpolateEnv({ sources: { app: { path: '${NOPE}' } } }, {})).toThrow('sources.app.path refers to ${NOPE}');
  });
});
