import { describe, expect, it } from 'vitest';
import { getRoleSessionName } from '../../../../src/sources/aws/role-session-name.js';

describe('getRoleSessionName', () => {
  it.each([
    [undefined, undefined, 'secretvisor'],
    ['worker', undefined, 'secretvisor-worker'],
    ['worker', 'finance', 'secretvisor-worker-finance'],
    ['', 'finance', 'secretvisor-finance'],
    ['my service', 'pool/one', 'secretvisor-my-service-pool-one'],
    ['a+b=c,d.e@f_g', undefined, 'secretvisor-a+b=c,d.e@f_g'],
  ])('names service %s pool %s as %s', (service, pool, expected) => {
    expect(getRoleSessionName(service, pool)).toBe(expected);
  });

  it('stays within the 64 characters STS allows', () => {
    const name = getRoleSessionName('w'.repeat(80), 'p'.repeat(80));
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});
