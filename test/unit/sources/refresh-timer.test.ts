import { describe, expect, it } from 'vitest';
import { REFRESH_SPREAD, RefreshTimer, refreshDelay } from '../../../src/sources/refresh-timer.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const DRAWS = 100_000;

describe('refreshDelay: the one refresh policy of remote sources', () => {
  it.each([
    [300_000, 0, 300_000],
    [300_000, 0.5, 270_000],
    [300_000, 0.999_999, 240_000],
    [200, 0.999_999, 160],
    [1_000, 0, 1_000],
    [1_000, 0.5, 900],
    [1_000, 0.999_999, 800],
  ])('polls a %s ms refresh after 80–100 %% of it (random %s → %s ms), never later', (refreshMs, random, expected) => {
    expect(refreshDelay(refreshMs, random)).toBe(expected);
  });

  it.each([[200], [15_000], [60_000], [300_000], [900_000], [86_400_000]])('keeps every one of 100,000 seeded draws for a %s ms refresh within [80 %%, 100 %%] of it', (refreshMs) => {
    const random = seededRandom(refreshMs);
    let low = Infinity;
    let high = -Infinity;
    for (let draw = 0; draw < DRAWS; draw++) {
      const delay = refreshDelay(refreshMs, random());
      low = Math.min(low, delay);
      high = Math.max(high, delay);
    }
    expect(low).toBeGreaterThanOrEqual(Math.round(refreshMs * (1 - REFRESH_SPREAD)));
    expect(high).toBeLessThanOrEqual(refreshMs);
    // The draws reach both ends of the window: the spread is all used.
    expect(low).toBeLessThan(refreshMs * (1 - REFRESH_SPREAD * 0.99));
    expect(high).toBeGreaterThan(refreshMs * (1 - REFRESH_SPREAD * 0.01));
  });

  it.each([[60_000], [300_000], [900_000], [86_400_000]])('spreads 100,000 seeded draws for a %s ms refresh evenly: each tenth of the window holds 10 ± 0.5 %%, the mean is 90 %%', (refreshMs) => {
    const random = seededRandom(refreshMs + 1);
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    for (let draw = 0; draw < DRAWS; draw++) {
      const delay = refreshDelay(refreshMs, random());
      sum += delay;
      const earlyShare = (refreshMs - delay) / (refreshMs * REFRESH_SPREAD);
      const bin = Math.min(9, Math.floor(earlyShare * 10));
      bins[bin] = (bins[bin] as number) + 1;
    }
    for (const count of bins) expect(Math.abs(count / DRAWS - 0.1)).toBeLessThan(0.005);
    expect(Math.abs(sum / DRAWS / refreshMs - (1 - REFRESH_SPREAD / 2))).toBeLessThan(0.001);
  });

  // One poll spreads them over the 60 s of the window (1/60 of them a second on average); each later poll wider still.
  it.each([
    [1, 0.025],
    [3, 0.02],
    [5, 0.015],
  ])('spreads 10,000 hosts that booted in the same second: at poll %i no second holds more than %s of them (5 min refresh)', (poll, maxShare) => {
    const hosts = 10_000;
    const random = seededRandom(poll);
    const perSecond = new Map<number, number>();
    for (let host = 0; host < hosts; host++) {
      let at = 0;
      for (let count = 0; count < poll; count++) at += refreshDelay(300_000, random());
      const second = Math.floor(at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values()) / hosts).toBeLessThanOrEqual(maxShare);
  });
});

function timer(options: { refreshMs?: number; random?: number | (() => number) } = {}) {
  const clock = new FakeClock();
  const { random = 0 } = options;
  clock.random = typeof random === 'number' ? () => random : random;
  const start = clock.now();
  const due: number[] = [];
  const refresh = new RefreshTimer({ clock, refreshMs: options.refreshMs ?? 10_000, onDue: () => due.push(clock.now() - start) });
  return { clock, refresh, due };
}

describe('RefreshTimer', () => {
  it('is due every refresh period', async () => {
    const { clock, refresh, due } = timer();
    refresh.start();
    await clock.advance(30_000);
    expect(due).toEqual([10_000, 20_000, 30_000]);
  });

  it('is due up to 20 % early, at random', async () => {
    const { clock, refresh, due } = timer({ random: 0.999_999 });
    refresh.start();
    await clock.advance(8_000);
    expect(due).toEqual([8_000]);
  });

  it.each([
    [0, 1000],
    [0.5, 900],
    [0.999_999, 800],
  ])('with random %s waits %sms of a 1000ms refresh', async (random, expected) => {
    const { clock, refresh, due } = timer({ refreshMs: 1000, random });
    refresh.start();
    await clock.advance(expected - 1);
    expect(due).toEqual([]);
    await clock.advance(1);
    expect(due).toEqual([expected]);
    refresh.stop();
  });

  it('re-arms after each call with a fresh jitter', async () => {
    const draws = [0, 1 - Number.EPSILON, 0.5];
    const { clock, refresh, due } = timer({ refreshMs: 1000, random: () => draws.shift() ?? 0.5 });
    refresh.start();
    await clock.advance(2_700);
    expect(due).toEqual([1_000, 1_800, 2_700]);
    refresh.stop();
  });

  it('counts the next period from each read', async () => {
    const { clock, refresh, due } = timer();
    refresh.start();
    await clock.advance(4_000);
    refresh.setPolling(true);
    await clock.advance(10_000);
    expect(due).toEqual([14_000]);
  });

  it('stops polling after a good read of dynamic credentials, and polls again after a failed read', async () => {
    const { clock, refresh, due } = timer();
    refresh.start();
    refresh.setPolling(false);
    await clock.advance(60_000);
    expect(due).toEqual([]);
    refresh.setPolling(true);
    await clock.advance(10_000);
    expect(due).toEqual([70_000]);
  });

  it('is never due before start or after stop', async () => {
    const { clock, refresh, due } = timer();
    refresh.setPolling(true);
    await clock.advance(60_000);
    refresh.start();
    refresh.stop();
    await clock.advance(60_000);
    expect(due).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('never calls again once stopped, even when stopped from inside a call', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const refresh = new RefreshTimer({
      clock,
      refreshMs: 100,
      onDue: () => {
        calls += 1;
        refresh.stop();
      },
    });
    refresh.start();
    await clock.advance(10_000);
    expect(calls).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('does not keep the process alive: its timer is a background one', () => {
    const { clock, refresh } = timer();
    refresh.start();
    expect([clock.pending, clock.keepingAlive]).toEqual([1, 0]);
    refresh.stop();
  });
});
