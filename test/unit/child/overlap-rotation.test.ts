import { describe, expect, it } from 'vitest';
import type { ChildChange, ChildEvent } from '../../../src/child/child-events.js';
import { OverlapRotation } from '../../../src/child/overlap-rotation.js';
import type { Probe } from '../../../src/child/readiness.js';
import { ReadyGate } from '../../../src/child/ready-gate.js';
import type { RunningChild } from '../../../src/child/start-child.js';
import { FakeChild } from '../../helpers/fake-child.js';
import { FakeClock, settle } from '../../helpers/fake-clock.js';
import { TEST_READY, childInput } from '../../helpers/fake-supervision.js';
import { captureLog } from '../../helpers/log-capture.js';

// The overlap rotation alone, over a fake lifecycle: what it decides and what
// it says when the new child fails (the lifecycle's races are in supervised-child.test.ts).

const CHANGE: ChildChange = { action: 'restart', signals: [], envChanged: true, sources: ['app', 'db'], context: {} };
const STOP = { signal: 'SIGTERM', timeoutMs: 5_000 } as const;

function setUp(options: { starts?: boolean } = {}) {
  const clock = new FakeClock();
  const capture = captureLog();
  const stopAsked = new AbortController();
  const events: ChildEvent[] = [];
  const emit = (event: ChildEvent): void => void events.push(event);
  const spec = { file: '/bin/service', args: [], ownGroup: true };
  const old = new FakeChild({ ...spec, env: childInput().env });
  const spawned: FakeChild[] = [];
  const retired: RunningChild[] = [];
  const readyPids = new Set<number>();
  const probe: Probe = async () => (readyPids.has(spawned.at(-1)?.pid ?? 0) ? { ok: true, detail: 'connected' } : { ok: false, detail: 'ECONNREFUSED' });
  const gate = new ReadyGate({ ready: TEST_READY, log: capture.log, clock, probe, stopAsked: stopAsked.signal, emit });
  const state = { serving: old as RunningChild | undefined, servingSince: 0 };
  const rotation = new OverlapRotation({
    log: capture.log,
    clock,
    gate,
    stopAsked: stopAsked.signal,
    serving: () => state.serving,
    spawn: (input) => {
      const child = new FakeChild({ ...spec, env: input.env });
      spawned.push(child);
      return child;
    },
    started: async () => options.starts ?? true,
    takeOver: (child, startedAt) => Object.assign(state, { serving: child, servingSince: startedAt }),
    retire: async (child) => {
      retired.push(child);
      await child.stop(STOP);
    },
    stop: (child) => child.stop(STOP),
    emit,
  });
  const run = (): Promise<void> => rotation.run(old, childInput(), CHANGE);
  return { clock, capture, stopAsked, events, old, spawned, retired, readyPids, state, rotation, run };
}

type Rotation = ReturnType<typeof setUp>;

describe('OverlapRotation', () => {
  it('a new child ready in time takes over from when it started, and the old one is retired', async () => {
    const s = setUp();
    const startedAt = s.clock.now();
    const running = s.run();
    await s.clock.advance(300);
    expect(s.rotation.incoming).toBe(s.spawned[0]);
    s.readyPids.add(s.spawned[0]!.pid);
    await s.clock.advance(100);
    await running;
    expect(s.state).toEqual({ serving: s.spawned[0], servingSince: startedAt });
    expect(s.retired).toEqual([s.old]);
    expect(s.rotation.incoming).toBeUndefined();
    expect(s.events.map((event) => event.type)).toEqual(['child-ready']);
    expect(s.capture.messages()).toContain(`the new child (pid ${s.spawned[0]!.pid}) is ready; stopping the old one (pid ${s.old.pid})`);
  });

  it('a new child ready after the old one exited by itself takes over, with nothing to retire', async () => {
    const s = setUp();
    const running = s.run();
    await settle();
    s.state.serving = undefined;
    s.readyPids.add(s.spawned[0]!.pid);
    await s.clock.advance(100);
    await running;
    expect(s.state.serving).toBe(s.spawned[0]);
    expect(s.retired).toEqual([]);
  });

  it.each<[string, { starts?: boolean }, (s: Rotation) => Promise<void>, RegExp]>([
    ['exits before it is ready', {}, async (s) => s.spawned[0]!.exit({ code: 1, signal: null }), /the new child \(pid \d+\) exited with code 1 before it was ready; /],
    [
      'is ended by a signal before it is ready',
      {},
      async (s) => s.spawned[0]!.exit({ code: null, signal: 'SIGSEGV' }),
      /the new child \(pid \d+\) was ended by SIGSEGV \(exit code 139\) before it was ready; /,
    ],
    [
      'is not ready within ready.timeout',
      {},
      async (s) => s.clock.advance(1_000),
      /the new child \(pid \d+\) was not ready within ready\.timeout 1s \(tcp 127\.0\.0\.1:8080, \d+ tries; last: ECONNREFUSED\); /,
    ],
    ['could not be started', { starts: false }, async () => undefined, /the new child \(pid \d+\) could not be started; /],
  ])('a new child that %s is stopped; the old one keeps serving, and the rejection is logged once and sent', async (_name, options, fail, why) => {
    const s = setUp(options);
    const running = s.run();
    await settle();
    await fail(s);
    await running;
    const rejected = s.spawned[0]!;
    expect(rejected.stops).toHaveLength(1);
    expect(s.state.serving).toBe(s.old);
    expect(s.rotation.incoming).toBeUndefined();
    expect(s.events.at(-1)).toEqual({ type: 'rotation-rejected', rejectedPid: rejected.pid, keptPid: s.old.pid, sources: ['app', 'db'] });
    const errors = s.capture.entries().filter((entry) => entry.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(new RegExp(`^rotation of app, db rejected: ${why.source}the old child \\(pid ${s.old.pid}\\) keeps serving on the previous secrets$`));
    expect(errors[0]).toMatchObject({ pid: rejected.pid, keptPid: s.old.pid, check: 'tcp 127.0.0.1:8080' });
  });

  it('a rejected rotation whose old child exited meanwhile keeps nothing, and says so', async () => {
    const s = setUp();
    const running = s.run();
    await settle();
    s.state.serving = undefined;
    s.spawned[0]!.exit({ code: 1, signal: null });
    await running;
    expect(s.events.at(-1)).toMatchObject({ type: 'rotation-rejected', keptPid: undefined });
    expect(s.capture.messages()).toContain(
      `rotation of app, db rejected: the new child (pid ${s.spawned[0]!.pid}) exited with code 1 before it was ready; the old child (pid ${s.old.pid}) had exited too`,
    );
  });

  it('a stop during the wait ends the new child and rejects nothing', async () => {
    const s = setUp();
    const running = s.run();
    await s.clock.advance(200);
    s.stopAsked.abort();
    await running;
    expect(s.spawned[0]!.stops).toHaveLength(1);
    expect(s.state.serving).toBe(s.old);
    expect(s.events.some((event) => event.type === 'rotation-rejected')).toBe(false);
    expect(s.capture.entries().filter((entry) => entry.level === 50)).toEqual([]);
  });
});
