import { describe, expect, it } from 'vitest';
import { SingleTimer, deadlineOn, repeatOn, sleepOn, systemClock, type TimerOptions } from '../../src/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('systemClock', () => {
  it.each<[TimerOptions | undefined, boolean]>([
    [undefined, true],
    [{}, true],
    [{ keepAlive: true }, true],
    [{ keepAlive: false }, false],
  ])('a timer with options %o keeps the process alive: %s', (options, keepsAlive) => {
    const handle = systemClock.setTimeout(() => undefined, 60_000, options) as NodeJS.Timeout;
    try {
      expect(handle.hasRef()).toBe(keepsAlive);
    } finally {
      systemClock.clearTimeout(handle);
    }
  });

  it('clears nothing without complaint', () => {
    expect(() => systemClock.clearTimeout(undefined)).not.toThrow();
  });
});

describe('sleepOn', () => {
  it('resolves after the time on the clock, and keeps the process alive meanwhile', async () => {
    const clock = new FakeClock();
    let woke = false;
    void sleepOn(clock, 1_000).then(() => (woke = true));
    expect(clock.keepingAlive).toBe(1);
    await clock.advance(999);
    expect(woke).toBe(false);
    await clock.advance(1);
    expect(woke).toBe(true);
  });

  it.each([
    ['aborted before', true],
    ['aborted while waiting', false],
  ])('resolves at once when its signal is %s, and leaves no timer', async (_when, before) => {
    const clock = new FakeClock();
    const controller = new AbortController();
    if (before) controller.abort();
    const slept = sleepOn(clock, 60_000, controller.signal);
    controller.abort();
    await slept;
    expect(clock.pending).toBe(0);
  });
});

describe('deadlineOn', () => {
  it('aborts after the time on the clock with the TimeoutError AbortSignal.timeout gives, and never keeps the process alive', async () => {
    const clock = new FakeClock();
    const deadline = deadlineOn(clock, 5_000);
    expect(clock.keepingAlive).toBe(0);
    await clock.advance(4_999);
    expect(deadline.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(deadline.signal.aborted).toBe(true);
    expect((deadline.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('never aborts once cancelled', async () => {
    const clock = new FakeClock();
    const deadline = deadlineOn(clock, 5_000);
    deadline.cancel();
    await clock.advance(10_000);
    expect([deadline.signal.aborted, clock.pending]).toEqual([false, 0]);
  });
});

describe('SingleTimer', () => {
  it('runs one callback at a time: scheduling again replaces the pending one', async () => {
    const clock = new FakeClock();
    const timer = new SingleTimer(clock);
    const ran: string[] = [];
    timer.schedule(1_000, () => ran.push('first'));
    timer.schedule(2_000, () => ran.push('second'));
    expect(timer.pending).toBe(true);
    await clock.advance(5_000);
    expect(ran).toEqual(['second']);
    expect(timer.pending).toBe(false);
  });

  it('cancels what is pending', async () => {
    const clock = new FakeClock();
    const timer = new SingleTimer(clock);
    let ran = false;
    timer.schedule(1_000, () => (ran = true));
    timer.cancel();
    await clock.advance(5_000);
    expect([ran, clock.pending]).toEqual([false, 0]);
  });

  it.each<[TimerOptions | undefined, number]>([
    [undefined, 1],
    [{ keepAlive: false }, 0],
  ])('with options %o, %i of its timers keep the process alive', (options, keepingAlive) => {
    const clock = new FakeClock();
    new SingleTimer(clock, options).schedule(1_000, () => undefined);
    expect(clock.keepingAlive).toBe(keepingAlive);
  });

  it('runs a callback scheduled in the past at once', async () => {
    const clock = new FakeClock();
    let ran = false;
    new SingleTimer(clock).schedule(-50, () => (ran = true));
    await clock.advance(0);
    expect(ran).toBe(true);
  });
});

describe('repeatOn', () => {
  it('calls every period until cancelled, in the background', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const calls: number[] = [];
    const timer = repeatOn(clock, 1_000, () => calls.push(clock.now() - start));
    expect(clock.keepingAlive).toBe(0);
    await clock.advance(3_500);
    timer.cancel();
    await clock.advance(5_000);
    expect(calls).toEqual([1_000, 2_000, 3_000]);
  });

  it('stops for good when cancelled from inside a call', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const timer = repeatOn(clock, 1_000, () => {
      calls += 1;
      timer.cancel();
    });
    await clock.advance(5_000);
    expect([calls, clock.pending]).toEqual([1, 0]);
  });
});
