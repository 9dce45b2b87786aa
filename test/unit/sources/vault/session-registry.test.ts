import { describe, expect, it, vi } from 'vitest';
import { SessionRegistry, getSessionKey } from '../../../../src/sources/vault/session-registry.js';
import type { TokenSession } from '../../../../src/sources/vault/token-session.js';

describe('getSessionKey', () => {
  const base = { address: 'https://vault:8200', namespace: undefined, auth: { method: 'approle', roleId: 'r', secretIdFile: '/s' } } as const;

  it('is the same for the same address, namespace and auth, whatever the key order or unset keys', () => {
    const reordered = { address: 'https://vault:8200/', namespace: undefined, auth: { secretIdFile: '/s', roleId: 'r', method: 'approle', mount: undefined } } as const;
    expect(getSessionKey(reordered)).toBe(getSessionKey(base));
  });

  it.each([
    ['address', { ...base, address: 'https://other:8200' }],
    ['namespace', { ...base, namespace: 'platform' }],
    ['auth', { ...base, auth: { method: 'approle', roleId: 'other', secretIdFile: '/s' } }],
    ['auth method', { ...base, auth: { method: 'token' } }],
  ] as const)('differs when the %s differs', (_what, other) => {
    expect(getSessionKey(other)).not.toBe(getSessionKey(base));
  });
});

describe('SessionRegistry', () => {
  it('makes one session per key and closes it when its last user releases it', () => {
    const registry = new SessionRegistry();
    const session = { close: vi.fn() } as unknown as TokenSession;
    const create = vi.fn(() => session);
    expect(registry.acquire('k', create)).toBe(session);
    expect(registry.acquire('k', create)).toBe(session);
    expect(create).toHaveBeenCalledTimes(1);
    registry.release('k');
    expect(session.close).not.toHaveBeenCalled();
    registry.release('k');
    expect(session.close).toHaveBeenCalledTimes(1);
    expect(registry.size).toBe(0);
    registry.release('k');
  });
});
