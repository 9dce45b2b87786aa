import { describe, expect, it } from 'vitest';
import { findVersionWithStage } from '../../../../src/sources/aws/version-stage.js';

describe('findVersionWithStage', () => {
  const stages = { v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT', 'blue'], v3: ['AWSPENDING'] };

  it.each([
    ['AWSCURRENT', 'v2'],
    ['AWSPREVIOUS', 'v1'],
    ['AWSPENDING', 'v3'],
    ['blue', 'v2'],
    ['green', undefined],
  ])('finds the version holding %s', (stage, expected) => {
    expect(findVersionWithStage(stages, stage)).toBe(expected);
  });

  it('finds nothing in a secret without versions', () => {
    expect(findVersionWithStage(undefined, 'AWSCURRENT')).toBeUndefined();
    expect(findVersionWithStage({ v1: undefined }, 'AWSCURRENT')).toBeUndefined();
  });
});
