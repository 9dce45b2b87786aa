import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefreshTimer } from '../../../../src/sources/vault/refresh-timer.js';
import { pinnedClock } from './fake-vault.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

function timer(refreshMs = 10_000, random = 0) {
  const due: number[] = [];
  const refresh = new RefreshTimer({ clock: pinnedClock(random), refreshMs, onDue: () => due.push(Date.now()) });
  return { refresh, due };
}

describe('RefreshTimer', () => {
  it('is due every refresh period', async () => {
    const { refresh, due } = timer();
    refresh.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(due).toEqual([10_000, 20_000, 30_000]);
  });

  it('is due up to 20 % early, at random', async () => {
    const { refresh, due } = timer(10_000, 0.999_999);
    refresh.start();
    await vi.advanceTimersByTimeAsync(8_000);
    expect(due).toEqual([8_000]);
  });

  it('counts the next period from each read', async () => {
    const { refresh, due } = timer();
    refresh.start();
    await vi.advanceTimersByTimeAsync(4_000);
    refresh.setPolling(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(due).toEqual([14_000]);
  });

  it('stops polling after a good read of dynamic credentials, and polls again after a failed read', async () => {
    const { refresh, due } = timer();
    refresh.start();
    refresh.setPolling(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(due).toEqual([]);
    refresh.setPolling(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(due).toEqual([70_000]);
  });

  it('is never due before start or after stop', async () => {
    const { refresh, due } = timer();
    refresh.setPolling(true);
    await vi.advanceTimersByTimeAsync(60_000);
    refresh.start();
    refresh.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(due).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
