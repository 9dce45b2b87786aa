import type { ChildEvent, ChildInput, ChildPolicy } from '../../src/child/child-events.js';
import type { ChildExit } from '../../src/child/exit-code.js';
import type { Probe } from '../../src/child/readiness.js';
import { SupervisedChild } from '../../src/child/supervised-child.js';
import { silentLogger } from '../../src/log.js';
import { SecretValue } from '../../src/secret-value.js';
import { fakeSpawn, type FakeChild } from './fake-child.js';
import { FakeClock } from './fake-clock.js';
import { randomSecret } from './secrets.js';

/** The policy of a fake supervision, unless a test changes part of it. */
export const TEST_POLICY: ChildPolicy = { onExit: 'restart', stopSignal: 'SIGTERM', stopTimeoutMs: 5_000, splayMs: 0, strategy: 'restart' };

/** A readiness check with 1 s to pass, tried every 100 ms; a fake supervision's probe decides each try. */
export const TEST_READY = { check: { kind: 'tcp', host: '127.0.0.1', port: 8080 }, timeoutMs: 1_000, intervalMs: 100 } as const;

/** A child's input: a fresh random TOKEN. */
export function childInput(): ChildInput {
  return { env: new Map([['TOKEN', new SecretValue(randomSecret('token'))]]), files: 0 };
}

/** The TOKEN in a child's environment. */
export function tokenOf(env: ReadonlyMap<string, SecretValue>): string | undefined {
  return env.get('TOKEN')?.reveal();
}

/** A {@link SupervisedChild} over a fake spawn and clock, with what it did. */
export interface FakeSupervision {
  readonly child: SupervisedChild;
  readonly clock: FakeClock;
  readonly fake: ReturnType<typeof fakeSpawn>;
  /** Every event, in order (unless the options gave their own listener). */
  readonly events: ChildEvent[];
  /** The exits secretvisor would end with. */
  readonly finalExits: ChildExit[];
  /** The children whose readiness check passes from now on. */
  readonly readyPids: Set<number>;
  /** A change of the environment, applied as a restart for new secrets from source `app`. */
  restart(next: ChildInput): Promise<void>;
  /** The children not ended yet. */
  running(): FakeChild[];
}

/**
 * Supervises fake children with {@link TEST_POLICY} and the given changes to
 * it: time moves only with `clock.advance`, and with a `ready` check the
 * newest child passes it once its pid is in `readyPids`.
 */
export function superviseFake(options: { policy?: Partial<ChildPolicy>; ownGroup?: boolean; onEvent?: (event: ChildEvent) => void } = {}): FakeSupervision {
  const clock = new FakeClock();
  const fake = fakeSpawn();
  const events: ChildEvent[] = [];
  const finalExits: ChildExit[] = [];
  const readyPids = new Set<number>();
  const probe: Probe = async () => {
    const latest = fake.children.at(-1);
    return latest !== undefined && readyPids.has(latest.pid) ? { ok: true, detail: 'connected' } : { ok: false, detail: 'ECONNREFUSED' };
  };
  const child = new SupervisedChild({
    command: { file: '/bin/service', args: [] },
    ownGroup: options.ownGroup ?? true,
    policy: { ...TEST_POLICY, ...options.policy },
    log: silentLogger(),
    onFinalExit: (exit) => finalExits.push(exit),
    onEvent: options.onEvent ?? ((event) => events.push(event)),
    spawn: fake.spawn,
    clock,
    probe,
  });
  return {
    child,
    clock,
    fake,
    events,
    finalExits,
    readyPids,
    restart: (next) => child.apply(next, { action: 'restart', signals: [], envChanged: true, sources: ['app'], context: {} }),
    running: () => fake.children.filter((c) => !c.hasExited),
  };
}
