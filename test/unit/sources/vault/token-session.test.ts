import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenSession } from '../../../../src/sources/vault/token-session.js';
import type { VaultLogin } from '../../../../src/sources/vault/vault-login.js';
import { SecretValue } from '../../../../src/secret-value.js';
import { SourceUnavailableError } from '../../../../src/errors.js';
import { fakeHttp, pinnedClock, quietLog, vaultError, type FakeRoutes } from './fake-vault.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

function login(ttlSeconds: number, renewable = true, name = 'token'): VaultLogin {
  return { token: new SecretValue(name), ttlMs: ttlSeconds * 1000, renewable };
}

function session(logins: (() => VaultLogin)[], routes: FakeRoutes = {}) {
  const loginAt: number[] = [];
  const http = fakeHttp(routes);
  const tokens = new TokenSession({
    http,
    clock: pinnedClock(0),
    log: quietLog,
    login: async () => {
      loginAt.push(Date.now());
      const next = logins.shift();
      if (next === undefined) throw new SourceUnavailableError('no more logins');
      return next();
    },
  });
  return { tokens, http, loginAt };
}

function renewedFor(ttlSeconds: number, renewable = true) {
  return () => ({ auth: { lease_duration: ttlSeconds, renewable } });
}

describe('TokenSession', () => {
  it('logs in once for concurrent callers', async () => {
    const { tokens, loginAt } = session([() => login(60)]);
    const [a, b] = await Promise.all([tokens.getToken(), tokens.getToken()]);
    expect(a.reveal()).toBe('token');
    expect(b.reveal()).toBe('token');
    expect(loginAt).toHaveLength(1);
  });

  it('renews at 2/3 of the TTL, and again at 2/3 of each renewed TTL', async () => {
    const { tokens, http } = session([() => login(60)], { 'auth/token/renew-self': renewedFor(60) });
    await tokens.getToken();
    await vi.advanceTimersByTimeAsync(39_999);
    expect(http.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(http.calls.map((call) => [call.path, call.at])).toEqual([
      ['auth/token/renew-self', 40_000],
      ['auth/token/renew-self', 80_000],
    ]);
  });

  it('renews 0–10 % earlier with jitter', async () => {
    const http = fakeHttp({ 'auth/token/renew-self': renewedFor(60) });
    const tokens = new TokenSession({ http, clock: pinnedClock(0.999), log: quietLog, login: async () => login(60) });
    await tokens.getToken();
    await vi.advanceTimersByTimeAsync(36_010);
    expect(http.calls).toHaveLength(1);
    expect(http.calls[0]?.at).toBeGreaterThanOrEqual(36_000);
    expect(http.calls[0]?.at).toBeLessThan(36_010);
  });

  it('logs in again when a renewal fails, retrying the login with doubling backoff', async () => {
    const failing = () => {
      throw new SourceUnavailableError('login refused');
    };
    const { tokens, loginAt } = session([() => login(60), failing, failing, () => login(60, true, 'second')], {
      'auth/token/renew-self': () => {
        throw vaultError(500, 'internal error');
      },
    });
    await tokens.getToken();
    await vi.advanceTimersByTimeAsync(40_000 + 500 + 1_000);
    // Jitter pinned to 0: equal jitter gives half of 1 s, then half of 2 s.
    expect(loginAt).toEqual([0, 40_000, 40_500, 41_500]);
    expect((await tokens.getToken()).reveal()).toBe('second');
  });

  it('logs in again, instead of renewing, once renewals stop extending the token (max TTL near)', async () => {
    const { tokens, http, loginAt } = session([() => login(60), () => login(60)], { 'auth/token/renew-self': renewedFor(20) });
    await tokens.getToken();
    await vi.advanceTimersByTimeAsync(40_000);
    expect(http.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(13_332);
    expect(loginAt).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(loginAt).toEqual([0, 53_333]);
    expect(http.calls).toHaveLength(1);
  });

  it('logs in again at 2/3 of the TTL when the token is not renewable', async () => {
    const { tokens, http, loginAt } = session([() => login(30, false), () => login(30, false)]);
    await tokens.getToken();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(loginAt).toEqual([0, 20_000]);
    expect(http.calls).toEqual([]);
  });

  it('sets no timer for a token that never expires', async () => {
    const { tokens } = session([() => login(0, false)]);
    await tokens.getToken();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never hands out an expired token: logs in on the spot', async () => {
    const failing = () => {
      throw new SourceUnavailableError('down');
    };
    const { tokens, loginAt } = session([() => login(3, false), failing, failing, () => login(60, true, 'fresh')]);
    await tokens.getToken();
    await vi.advanceTimersByTimeAsync(2_600);
    expect(loginAt).toEqual([0, 2_000, 2_500]);
    expect((await tokens.getToken()).reveal()).toBe('token');
    await vi.advanceTimersByTimeAsync(500);
    expect((await tokens.getToken()).reveal()).toBe('fresh');
    expect(loginAt).toEqual([0, 2_000, 2_500, 3_100]);
  });

  it('after a 403, drops a token Vault no longer knows so that the next call logs in', async () => {
    const { tokens, loginAt } = session([() => login(60), () => login(60, true, 'second')], {
      'auth/token/lookup-self': () => {
        throw vaultError(403, 'permission denied');
      },
    });
    const first = await tokens.getToken();
    expect(await tokens.handleRejected(first)).toBe(true);
    expect((await tokens.getToken()).reveal()).toBe('second');
    expect(loginAt).toHaveLength(2);
  });

  it('after a 403, keeps a token that still works: the policy refused, a new login would not help', async () => {
    const { tokens, loginAt } = session([() => login(60)], { 'auth/token/lookup-self': () => ({ data: { ttl: 50 } }) });
    const token = await tokens.getToken();
    expect(await tokens.handleRejected(token)).toBe(false);
    expect(await tokens.getToken()).toBe(token);
    expect(loginAt).toHaveLength(1);
  });

  it('stops every timer on close', async () => {
    const { tokens } = session([() => login(60)]);
    await tokens.getToken();
    tokens.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('TokenSession.onNewToken', () => {
  it('tells listeners of a login that gave another token, not of the first login nor of the same token read again', async () => {
    const { tokens, http } = session([() => login(60, true, 'first'), () => login(60, true, 'first'), () => login(60, true, 'second')], {
      'auth/token/lookup-self': () => {
        throw vaultError(403, 'permission denied');
      },
    });
    const seen: string[] = [];
    tokens.onNewToken((token) => seen.push(token.reveal()));
    const first = await tokens.getToken();
    expect(await tokens.handleRejected(first)).toBe(true);
    const same = await tokens.getToken();
    expect(await tokens.handleRejected(same)).toBe(true);
    await tokens.getToken();
    expect(seen).toEqual(['second']);
    expect(http.calls.filter((call) => call.path === 'auth/token/lookup-self')).toHaveLength(2);
  });
});
