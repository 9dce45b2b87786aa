import { vi } from 'vitest';
import { systemClock, type Clock } from '../../../../src/clock.js';
import { VaultRequestError, type VaultCall, type VaultHttp } from '../../../../src/sources/vault/vault-http.js';
import { silentLogger } from '../../../../src/log.js';

/** The real clock (faked by `vi.useFakeTimers()`) with jitter pinned to `random`. */
export function pinnedClock(random = 0): Clock {
  return { ...systemClock, random: () => random };
}

/** Answers for a fake Vault: one handler per path; a handler may return a value or throw. */
export type FakeRoutes = Record<string, (call: VaultCall) => unknown>;

/** A fake {@link VaultHttp} that records each call with the fake time it happened at. */
export function fakeHttp(routes: FakeRoutes): VaultHttp & { readonly calls: { path: string; at: number; body: unknown }[] } {
  const calls: { path: string; at: number; body: unknown }[] = [];
  return {
    calls,
    call: vi.fn(async (call: VaultCall) => {
      calls.push({ path: call.path, at: Date.now(), body: call.body });
      const route = routes[call.path];
      if (route === undefined) throw new VaultRequestError(404, '');
      return route(call);
    }),
  };
}

/** A failing answer, as the client layer throws it. */
export function vaultError(status: number | undefined, reason = ''): VaultRequestError {
  return new VaultRequestError(status, reason);
}

/** The logger unit tests use. */
export const quietLog = silentLogger();
