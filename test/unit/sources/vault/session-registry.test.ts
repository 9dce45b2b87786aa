import { describe, expect, it, vi } from 'vitest';
import { createSessionRegistry, getSessionKey } from '../../../../src/sources/vault/session-registry.js';
import type { TokenSession } from '../../../../src/sources/vault/token-session.js';

describe('getSessionKey', () => {
  const base = { address: 'https://vault:8200', namespace: undefined, auth: { method: 'approle', mount: 'approle', roleId: 'r', secretIdFile: '/s' } } as const;

  it('is the same for the same address, namespace and auth, whatever the key order or unset keys', () => {
    const reordered = { address: 'https://vault:8200/', namespace: undefined, auth: { secretIdFile: '/s', roleId: 'r', mount: 'approle', method: 'approle', roleIdFile: undefined } } as const;
    expect(getSessionKey(reordered)).toBe(getSessionKey(base));
  });

  it.each([
    ['address', { ...base, address: 'https://other:8200' }],
    ['namespace', { ...base, namespace: 'platform' }],
    ['auth', { ...base, auth: { method: 'approle', mount: 'approle', roleId: 'other', secretIdFile: '/s' } }],
    ['auth mount', { ...base, auth: { method: 'approle', mount: 'apps', roleId: 'r', secretIdFile: '/s' } }],
    ['auth method', { ...base, auth: { method: 'token', tokenFile: undefined, homeTokenFile: '/root/.vault-token' } }],
  ] as const)('differs when the %s differs', (_what, other) => {
    expect(getSessionKey(other)).not.toBe(getSessionKey(base));
  });
});

describe('createSessionRegistry', () => {
  it('makes one session per key and closes it when its last user releases it', async () => {
    const registry = createSessionRegistry();
    const session = { close: vi.fn() } as unknown as TokenSession;
    const create = vi.fn(() => session);
    const first = registry.acquire('k', create);
    const second = registry.acquire('k', create);
    expect(first.value).toBe(session);
    expect(second.value).toBe(session);
    expect(create).toHaveBeenCalledTimes(1);
    await first.release();
    expect(session.close).not.toHaveBeenCalled();
    await second.release();
    expect(session.close).toHaveBeenCalledTimes(1);
    expect(registry.size).toBe(0);
    await second.release();
    expect(session.close).toHaveBeenCalledTimes(1);
  });
});
