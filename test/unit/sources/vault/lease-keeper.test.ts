import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper } from '../../../../src/sources/vault/lease-keeper.js';
import { SecretValue } from '../../../../src/secret-value.js';
import { fakeHttp, pinnedClock, quietLog, vaultError, type FakeRoutes } from './fake-vault.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

const TOKEN = new SecretValue('token');

function keeper(routes: FakeRoutes, tokenIsDead = false) {
  const due: { reason: string; at: number }[] = [];
  const http = fakeHttp(routes);
  const session = { getToken: vi.fn(async () => TOKEN), handleRejected: vi.fn(async () => tokenIsDead) };
  const leases = new LeaseKeeper({
    http,
    session,
    clock: pinnedClock(0),
    log: quietLog,
    onReissue: (reason) => due.push({ reason, at: Date.now() }),
  });
  return { leases, http, due, session };
}

function renewedFor(seconds: number, renewable = true) {
  return () => ({ lease_id: 'db/creds/app/1', lease_duration: seconds, renewable });
}

const lease = (durationSeconds: number, renewable: boolean) => ({ id: 'db/creds/app/1', durationMs: durationSeconds * 1000, renewable });

describe('LeaseKeeper', () => {
  it('renews a renewable lease at 2/3 of its duration, asking for the same increment, without re-issuing', async () => {
    const { leases, http, due } = keeper({ 'sys/leases/renew': renewedFor(3600) });
    leases.hold(lease(3600, true));
    await vi.advanceTimersByTimeAsync(2_400_000 * 2);
    expect(http.calls.map((call) => [call.at, call.body])).toEqual([
      [2_400_000, { lease_id: 'db/creds/app/1', increment: 3600 }],
      [4_800_000, { lease_id: 'db/creds/app/1', increment: 3600 }],
    ]);
    expect(due).toEqual([]);
    expect(leases.isCurrent).toBe(true);
  });

  it.each([
    [0, 85_000],
    [0.999, 89_996],
  ])('re-issues a non-renewable lease at 0.85–0.9 of its TTL (jitter %s → %s ms)', async (random, at) => {
    const due: number[] = [];
    const leases = new LeaseKeeper({
      http: fakeHttp({}),
      session: { getToken: async () => TOKEN, handleRejected: async () => false },
      clock: pinnedClock(random),
      log: quietLog,
      onReissue: () => due.push(Date.now()),
    });
    leases.hold(lease(100, false));
    await vi.advanceTimersByTimeAsync(100_000);
    expect(due).toHaveLength(1);
    expect(due[0]).toBeCloseTo(at, -1);
    expect(leases.isCurrent).toBe(false);
  });

  it('re-issues at 2/3 of what is left once renewals stop extending the lease (max TTL)', async () => {
    const { leases, due } = keeper({ 'sys/leases/renew': renewedFor(20) });
    leases.hold(lease(60, true));
    await vi.advanceTimersByTimeAsync(40_000 + 17_000);
    expect(due.map((entry) => entry.at)).toEqual([53_333]);
  });

  it('re-issues at once when Vault no longer knows the lease (400)', async () => {
    const { leases, due } = keeper({
      'sys/leases/renew': () => {
        throw vaultError(400, 'lease not found');
      },
    });
    leases.hold(lease(60, true));
    await vi.advanceTimersByTimeAsync(40_000);
    expect(due).toEqual([{ reason: 'the lease can no longer be renewed: 400 lease not found', at: 40_000 }]);
  });

  it('retries a failed renewal with backoff, and re-issues before the lease ends if Vault stays away', async () => {
    const { leases, http, due } = keeper({
      'sys/leases/renew': () => {
        throw vaultError(undefined, 'ECONNREFUSED');
      },
    });
    leases.hold(lease(6, true));
    await vi.advanceTimersByTimeAsync(6_000);
    // Renew at 4 s; retries after 0.5 s and 1 s; the next (2 s) would pass 85 % of what is left.
    expect(http.calls.map((call) => call.at)).toEqual([4_000, 4_500, 5_500]);
    expect(due).toHaveLength(1);
    expect(due[0]?.at).toBe(5_500 + 425);
  });

  it('re-issues before the end when the policy refuses renewals (403 with a working token)', async () => {
    const { leases, http, due, session } = keeper({
      'sys/leases/renew': () => {
        throw vaultError(403, 'permission denied');
      },
    });
    leases.hold(lease(60, true));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(session.handleRejected).toHaveBeenCalledTimes(1);
    expect(http.calls).toHaveLength(1);
    expect(due.map((entry) => entry.at)).toEqual([40_000 + 17_000]);
  });

  it('retries a renewal refused for a dead token with the next token', async () => {
    let calls = 0;
    const { leases, due } = keeper(
      {
        'sys/leases/renew': () => {
          calls += 1;
          if (calls === 1) throw vaultError(403, 'permission denied');
          return renewedFor(60)();
        },
      },
      true,
    );
    leases.hold(lease(60, true));
    await vi.advanceTimersByTimeAsync(40_500);
    expect(calls).toBe(2);
    expect(due).toEqual([]);
  });

  it('holds new credentials after a re-issue, and revokes every live lease it was issued', async () => {
    const { leases, http } = keeper({ 'sys/leases/revoke': () => undefined });
    leases.hold(lease(100, false));
    await vi.advanceTimersByTimeAsync(85_000);
    leases.hold({ id: 'db/creds/app/2', durationMs: 100_000, renewable: false });
    expect(leases.isCurrent).toBe(true);
    await leases.revokeAll();
    expect(http.calls.filter((call) => call.path === 'sys/leases/revoke').map((call) => call.body)).toEqual([{ lease_id: 'db/creds/app/1' }, { lease_id: 'db/creds/app/2' }]);
  });

  it('does not revoke leases that already expired, and survives a failed revocation', async () => {
    const { leases, http } = keeper({
      'sys/leases/revoke': () => {
        throw vaultError(503, 'Vault is sealed');
      },
    });
    leases.hold(lease(10, false));
    await vi.advanceTimersByTimeAsync(20_000);
    leases.hold({ id: 'db/creds/app/2', durationMs: 100_000, renewable: false });
    await expect(leases.revokeAll()).resolves.toBeUndefined();
    expect(http.calls.map((call) => call.body)).toEqual([{ lease_id: 'db/creds/app/2' }]);
  });

  it('stops every timer on stop', () => {
    const { leases } = keeper({});
    leases.hold(lease(60, true));
    leases.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('LeaseKeeper and a new token', () => {
  it('re-issues at once credentials issued with a token the session replaced (Vault revokes them with it), not for the same token again', async () => {
    const { leases, due } = keeper({ 'sys/leases/renew': renewedFor(3600) });
    leases.hold(lease(3600, true), TOKEN);
    leases.handleNewToken(new SecretValue('token'));
    expect(due).toEqual([]);
    leases.handleNewToken(new SecretValue('another-token'));
    expect(due.map((entry) => entry.reason)).toEqual(['they were issued with the previous Vault token, and Vault revokes them when that token ends']);
    expect(leases.isCurrent).toBe(false);
    leases.handleNewToken(new SecretValue('a-third-token'));
    expect(due).toHaveLength(1);
  });
});

describe('LeaseKeeper at the max TTL', () => {
  it('stops renewing at the first renewal that comes back short of the full duration, and re-issues at 2/3 of what it gave (when the next renewal was due)', async () => {
    const { leases, http, due } = keeper({ 'sys/leases/renew': renewedFor(50) });
    leases.hold(lease(60, true));
    await vi.advanceTimersByTimeAsync(40_000 + 50_000);
    expect(http.calls.map((call) => call.at)).toEqual([40_000]);
    expect(due.map((entry) => entry.at)).toEqual([40_000 + 33_333]);
  });
});
