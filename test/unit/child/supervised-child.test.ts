import { describe, expect, it } from 'vitest';
import type { ChildPolicy } from '../../../src/child/child-events.js';
import type { ChildExit } from '../../../src/child/exit-code.js';
import { settle } from '../../helpers/fake-clock.js';
import { TEST_READY, childInput as input, superviseFake, tokenOf, type FakeSupervision } from '../../helpers/fake-supervision.js';

// The races of one child's lifecycle, with a fake spawn and clock: every
// start, stop and timer is in the test's hands, so each interleaving is exact.

// With random() fixed at 0.5, the first crash waits 375 ms (equal jitter over 500 ms), the second 750 ms.
const FIRST_BACKOFF_MS = 375;

const setUp = (policy: Partial<ChildPolicy> = {}): FakeSupervision => superviseFake({ policy });

const crash: ChildExit = { code: 3, signal: null };

describe('SupervisedChild: never two children', () => {
  it.each([
    [
      'a restart for new secrets',
      async (s: FakeSupervision) => {
        const restarting = s.restart(input());
        await s.clock.advance(2_000);
        await restarting;
      },
    ],
    [
      'a restart while the old child is slow to stop',
      async (s: FakeSupervision) => {
        const old = s.fake.children[0]!;
        old.holdStop = true;
        const restarting = s.restart(input());
        await s.clock.advance(2_000);
        expect(s.fake.children).toHaveLength(1);
        old.exit({ code: 0, signal: null });
        await restarting;
      },
    ],
    [
      'a crash restart that falls due during the splay of a restart',
      async (s: FakeSupervision) => {
        s.fake.children[0]!.exit(crash);
        await settle();
        // The splay (up to 2 s, 1 s with random 0.5) outlasts the crash's backoff.
        const restarting = s.restart(input());
        await s.clock.advance(FIRST_BACKOFF_MS);
        expect(s.fake.children).toHaveLength(2);
        await s.clock.advance(1_000);
        await restarting;
        expect(s.fake.children).toHaveLength(3);
      },
    ],
    [
      'new secrets while a crash restart waits out its backoff',
      async (s: FakeSupervision) => {
        s.fake.children[0]!.exit(crash);
        await settle();
        const restarting = s.restart(input());
        await s.clock.advance(60_000);
        await restarting;
      },
    ],
  ])('%s', async (_name, act) => {
    const s = setUp({ splayMs: 2_000 });
    await s.child.start(input());
    await act(s);
    expect(s.fake.overlaps).toEqual([]);
    expect(s.fake.children.filter((child) => !child.hasExited)).toHaveLength(1);
    expect(s.child.pid).toBe(s.fake.children.at(-1)?.pid);
  });
});

describe('SupervisedChild: a crash restart pending when new secrets arrive', () => {
  it('starts one child with the new secrets, and the pending crash restart never fires', async () => {
    const s = setUp();
    await s.child.start(input());
    s.fake.children[0]!.exit(crash);
    await settle();
    expect(s.clock.pending).toBe(1);
    const next = input();
    await s.restart(next);
    expect(s.fake.children).toHaveLength(2);
    expect(tokenOf(s.fake.children[1]!.spec.env)).toBe(tokenOf(next.env));
    expect(s.clock.pending).toBe(0);
    await s.clock.advance(60_000);
    expect(s.fake.children).toHaveLength(2);
  });

  it('restarts a crashed child with the latest secrets, also those that came with onChange signal or none', async () => {
    const s = setUp();
    await s.child.start(input());
    const latest = input();
    await s.child.apply(latest, { action: 'none', signals: [], envChanged: true, sources: ['app'], context: {} });
    s.fake.children[0]!.exit(crash);
    await s.clock.advance(FIRST_BACKOFF_MS);
    expect(s.fake.children).toHaveLength(2);
    expect(tokenOf(s.fake.children[1]!.spec.env)).toBe(tokenOf(latest.env));
  });

  it('waits longer after each crash in a row, and quickly again after a child that stayed up', async () => {
    const s = setUp();
    await s.child.start(input());
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = s.clock.now();
      s.fake.children.at(-1)!.exit(crash);
      while (s.fake.children.length === i + 1) await s.clock.advance(5);
      delays.push(s.clock.now() - before);
    }
    expect(delays).toEqual([375, 750, 1_500]);
    await s.clock.advance(10_000);
    s.fake.children.at(-1)!.exit(crash);
    await s.clock.advance(FIRST_BACKOFF_MS);
    expect(s.fake.children).toHaveLength(5);
  });
});

describe('SupervisedChild: stop', () => {
  it.each([
    ['while the child runs', async () => undefined],
    ['during the splay of a restart', async (s: FakeSupervision) => void s.restart(input())],
    [
      'while a restart waits for the old child to stop',
      async (s: FakeSupervision) => {
        s.fake.children[0]!.holdStop = true;
        void s.restart(input());
        await s.clock.advance(100);
        // The old child ends on the stop's signal: its first stop was held.
        setImmediate(() => s.fake.children[0]!.exit({ code: 0, signal: null }));
      },
    ],
  ])('%s: nothing starts after it, and the old child is the last one', async (_name, act) => {
    const s = setUp({ splayMs: 2_000 });
    await s.child.start(input());
    await act(s);
    const exit = await s.child.stop('SIGTERM');
    await s.clock.advance(60_000);
    expect(s.fake.children).toHaveLength(1);
    expect(s.fake.children[0]!.hasExited).toBe(true);
    expect(exit).toBeDefined();
    expect(s.finalExits).toEqual([]);
  });

  it('during a crash backoff: the pending restart is cancelled and the stop resolves with the crash', async () => {
    const s = setUp();
    await s.child.start(input());
    s.fake.children[0]!.exit(crash);
    await settle();
    expect(await s.child.stop('SIGTERM')).toEqual(crash);
    await s.clock.advance(60_000);
    expect(s.fake.children).toHaveLength(1);
  });

  it('is idempotent: a second stop joins the first and the child is stopped once', async () => {
    const s = setUp();
    await s.child.start(input());
    s.fake.children[0]!.holdStop = true;
    const first = s.child.stop('SIGTERM');
    const second = s.child.stop('SIGINT');
    expect(second).toBe(first);
    s.fake.children[0]!.exit({ code: 0, signal: null });
    expect(await first).toEqual({ code: 0, signal: null });
    expect(s.fake.children[0]!.stops.map(({ signal, timeoutMs }) => ({ signal, timeoutMs }))).toEqual([{ signal: 'SIGTERM', timeoutMs: 5_000 }]);
  });

  it('is never reported as a crash, and no restart follows it', async () => {
    const s = setUp();
    await s.child.start(input());
    await s.child.stop('SIGTERM');
    await s.clock.advance(60_000);
    const pid = s.fake.children[0]!.pid;
    expect(s.events).toEqual([
      { type: 'child-started', pid, reason: 'initial' },
      { type: 'child-ready', pid },
      { type: 'child-exited', pid, code: null, signal: 'SIGTERM', reason: 'stopped' },
    ]);
    expect(s.finalExits).toEqual([]);
    expect(s.clock.pending).toBe(0);
  });

  it.each<[NodeJS.Signals, boolean, NodeJS.Signals | undefined]>([
    ['SIGTERM', true, 'SIGUSR2'],
    ['SIGINT', true, 'SIGINT'],
    ['SIGINT', false, undefined],
    ['SIGTERM', false, 'SIGUSR2'],
  ])('secretvisor receiving %s (own group: %s) sends the child %s', async (received, ownGroup, sent) => {
    const { child, fake } = superviseFake({ policy: { stopSignal: 'SIGUSR2' }, ownGroup });
    await child.start(input());
    await child.stopFor(received);
    expect(fake.children[0]!.stops.map((stop) => stop.signal)).toEqual([sent]);
  });

  it('before the first start: no child ever starts', async () => {
    const s = setUp();
    expect(await s.child.stop('SIGTERM')).toBeUndefined();
    expect(await s.child.start(input())).toBe(false);
    expect(s.fake.children).toHaveLength(0);
  });
});

describe('SupervisedChild: events', () => {
  it.each<[string, 'crash' | 'signal', ChildExit]>([
    ['exits with a code', 'crash', { code: 3, signal: null }],
    ['is ended by a signal secretvisor did not send', 'signal', { code: null, signal: 'SIGKILL' }],
  ])('a child that %s is restarted with reason %s', async (_name, reason, exit) => {
    const s = setUp();
    await s.child.start(input());
    s.fake.children[0]!.exit(exit);
    await s.clock.advance(FIRST_BACKOFF_MS);
    const [first, second] = s.fake.children.map((child) => child.pid);
    expect(s.events.slice(2)).toEqual([
      { type: 'child-exited', pid: first, code: exit.code, signal: exit.signal, reason: 'crash' },
      { type: 'child-started', pid: second, reason },
      { type: 'child-ready', pid: second },
    ]);
  });

  it('a restart for new secrets reports the old child as rotation and the new one as started for rotation', async () => {
    const s = setUp();
    await s.child.start(input());
    await s.restart(input());
    const [first, second] = s.fake.children.map((child) => child.pid);
    expect(s.events.slice(2)).toEqual([
      { type: 'child-exited', pid: first, code: null, signal: 'SIGTERM', reason: 'rotation' },
      { type: 'child-started', pid: second, reason: 'rotation' },
      { type: 'child-ready', pid: second },
    ]);
  });

  it('onExit: exit ends with the child: one final exit, reported as exit, never restarted', async () => {
    const s = setUp({ onExit: 'exit' });
    await s.child.start(input());
    s.fake.children[0]!.exit({ code: 7, signal: null });
    await s.clock.advance(60_000);
    expect(s.finalExits).toEqual([{ code: 7, signal: null }]);
    expect(s.events.at(-1)).toMatchObject({ type: 'child-exited', code: 7, reason: 'exit' });
    expect(s.fake.children).toHaveLength(1);
  });

  it('a listener that throws does not break the lifecycle', async () => {
    const { child, fake } = superviseFake({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    expect(await child.start(input())).toBe(true);
    await child.apply(input(), { action: 'restart', signals: [], envChanged: true, sources: ['app'], context: {} });
    expect(fake.children).toHaveLength(2);
  });
});

describe('SupervisedChild: reload signals', () => {
  it.each([
    ['signal', ['SIGUSR1']],
    ['none', []],
  ] as const)('onChange %s: the running child gets %j and is not restarted', async (action, signals) => {
    const s = setUp();
    await s.child.start(input());
    await s.child.apply(input(), { action, signals: action === 'signal' ? ['SIGUSR1'] : [], envChanged: false, sources: ['app'], context: {} });
    expect(s.fake.children).toHaveLength(1);
    expect(s.fake.children[0]!.signals).toEqual(signals);
  });

  it('sends no reload signal once a stop was asked for', async () => {
    const s = setUp();
    await s.child.start(input());
    s.fake.children[0]!.holdStop = true;
    void s.child.stop('SIGTERM');
    s.child.signal('SIGHUP');
    expect(s.fake.children[0]!.signals).toEqual([]);
  });
});

describe('SupervisedChild: readiness', () => {
  const setUpReady = (policy: Partial<ChildPolicy> = {}): FakeSupervision => setUp({ ready: TEST_READY, ...policy });

  it('sends child-ready only once the check passes', async () => {
    const s = setUpReady();
    await s.child.start(input());
    await s.clock.advance(300);
    expect(s.events.map((e) => e.type)).toEqual(['child-started']);
    s.readyPids.add(s.fake.children[0]!.pid);
    await s.clock.advance(100);
    expect(s.events.map((e) => e.type)).toEqual(['child-started', 'child-ready']);
  });

  it('a child not ready in time is stopped and, with onExit: exit, secretvisor ends with 69', async () => {
    const s = setUpReady({ onExit: 'exit' });
    await s.child.start(input());
    await s.clock.advance(1_000);
    expect(s.fake.children[0]!.stops).toHaveLength(1);
    await settle();
    expect(s.finalExits).toEqual([{ code: 69, signal: null }]);
  });

  it('a child not ready in time is restarted with the crash backoff (onExit: restart)', async () => {
    const s = setUpReady();
    await s.child.start(input());
    await s.clock.advance(1_000);
    expect(s.fake.children).toHaveLength(1);
    await s.clock.advance(FIRST_BACKOFF_MS);
    expect(s.fake.children).toHaveLength(2);
    expect(s.events.filter((e) => e.type === 'child-started').at(-1)).toMatchObject({ reason: 'crash' });
  });

  describe('strategy overlap', () => {
    async function overlapping(policy: Partial<ChildPolicy> = {}) {
      const s = setUpReady({ strategy: 'overlap', ...policy });
      await s.child.start(input());
      s.readyPids.add(s.fake.children[0]!.pid);
      await s.clock.advance(100);
      return s;
    }

    it('starts the new child beside the old one, and stops the old one once the new one is ready', async () => {
      const s = await overlapping();
      const rotating = s.restart(input());
      await s.clock.advance(300);
      expect(s.running()).toHaveLength(2);
      s.readyPids.add(s.fake.children[1]!.pid);
      await s.clock.advance(100);
      await rotating;
      expect(s.running().map((c) => c.pid)).toEqual([s.fake.children[1]!.pid]);
      expect(s.child.pid).toBe(s.fake.children[1]!.pid);
    });

    it('a new child that exits during the overlap is rejected: the old one keeps serving', async () => {
      const s = await overlapping();
      const rotating = s.restart(input());
      await settle();
      s.fake.children[1]!.exit({ code: 1, signal: null });
      await rotating;
      expect(s.running().map((c) => c.pid)).toEqual([s.fake.children[0]!.pid]);
      expect(s.child.pid).toBe(s.fake.children[0]!.pid);
      expect(s.events.at(-1)).toEqual({ type: 'rotation-rejected', rejectedPid: s.fake.children[1]!.pid, keptPid: s.fake.children[0]!.pid, sources: ['app'] });
    });

    it('a new child not ready in time is stopped: the old one keeps serving', async () => {
      const s = await overlapping();
      const rotating = s.restart(input());
      await s.clock.advance(1_000);
      await rotating;
      expect(s.fake.children[1]!.stops).toHaveLength(1);
      expect(s.running().map((c) => c.pid)).toEqual([s.fake.children[0]!.pid]);
      expect(s.events.at(-1)).toMatchObject({ type: 'rotation-rejected', keptPid: s.fake.children[0]!.pid });
      expect(s.finalExits).toEqual([]);
    });

    it('a stop during the overlap ends both children', async () => {
      const s = await overlapping();
      const rotating = s.restart(input());
      await s.clock.advance(200);
      expect(s.running()).toHaveLength(2);
      await s.child.stop('SIGTERM');
      await rotating;
      expect(s.running()).toEqual([]);
      await s.clock.advance(60_000);
      expect(s.fake.children).toHaveLength(2);
      expect(s.events.some((e) => e.type === 'rotation-rejected')).toBe(false);
    });

    it('a second change during an overlap waits for it: never three children', async () => {
      const s = await overlapping();
      const first = s.restart(input());
      await s.clock.advance(200);
      const second = s.restart(input());
      await s.clock.advance(200);
      expect(s.fake.children).toHaveLength(2);
      s.readyPids.add(s.fake.children[1]!.pid);
      await s.clock.advance(100);
      await first;
      expect(s.running()).toHaveLength(2);
      expect(s.running()[0]!.pid).toBe(s.fake.children[1]!.pid);
      s.readyPids.add(s.fake.children[2]!.pid);
      await s.clock.advance(100);
      await second;
      expect(s.running().map((c) => c.pid)).toEqual([s.fake.children[2]!.pid]);
    });

    it.each(['restart', 'exit'] as const)('the old child crashing during the overlap: the new one takes over once ready (onExit: %s)', async (onExit) => {
      const s = await overlapping({ onExit });
      const rotating = s.restart(input());
      await s.clock.advance(100);
      s.fake.children[0]!.exit(crash);
      await s.clock.advance(100);
      s.readyPids.add(s.fake.children[1]!.pid);
      await s.clock.advance(100);
      await rotating;
      await s.clock.advance(60_000);
      expect(s.fake.children).toHaveLength(2);
      expect(s.running().map((c) => c.pid)).toEqual([s.fake.children[1]!.pid]);
      expect(s.finalExits).toEqual([]);
    });

    it('the old child crashing during an overlap that is rejected: handled as its crash (onExit: exit ends with its code)', async () => {
      const s = await overlapping({ onExit: 'exit' });
      const rotating = s.restart(input());
      await s.clock.advance(100);
      s.fake.children[0]!.exit(crash);
      await s.clock.advance(1_000);
      await rotating;
      await settle();
      expect(s.running()).toEqual([]);
      expect(s.finalExits).toEqual([crash]);
      expect(s.events.find((e) => e.type === 'rotation-rejected')).toMatchObject({ keptPid: undefined });
    });
  });
});
