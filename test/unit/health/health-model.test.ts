import { describe, expect, it } from 'vitest';
import { HealthModel } from '../../../src/health/health-model.js';
import { formatStatusLine } from '../../../src/health/status-line.js';
import { FakeClock } from '../../helpers/fake-clock.js';

function model(): { health: HealthModel; clock: FakeClock } {
  const clock = new FakeClock();
  const health = new HealthModel({ service: 'api', pool: undefined, clock });
  health.handleSourceEvent({ type: 'source-registered', source: 'db', kind: 'vault', refreshMs: 60_000, leaseExpiresAt: () => clock.now() + 90_000 });
  return { health, clock };
}

describe('HealthModel', () => {
  it('is starting until the child runs and is ready, then healthy', () => {
    const { health, clock } = model();
    expect(health.report()).toMatchObject({ healthy: false, reasons: ['starting: the child has not started yet'] });
    health.handleSourceEvent({ type: 'source-read', source: 'db', at: clock.now(), updatedAt: new Date(clock.now() - 86_400_000), cachedAt: undefined });
    health.handleChildEvent({ type: 'child-started', pid: 10, reason: 'initial' });
    expect(health.report().reasons).toEqual(['the child is not ready yet']);
    health.handleChildEvent({ type: 'child-ready', pid: 10 });
    const report = health.report();
    expect(report).toMatchObject({ healthy: true, reasons: [], service: 'api', child: { up: true, ready: true, pid: 10 } });
    expect(report.sources[0]).toMatchObject({ state: 'fresh', leaseSecondsLeft: 90, secretAgeSeconds: 86_400, fromCache: false });
  });

  it('turns a failing source stale only once its last good read is older than its refresh', async () => {
    const { health, clock } = model();
    health.handleSourceEvent({ type: 'source-read', source: 'db', at: clock.now(), updatedAt: undefined, cachedAt: undefined });
    await clock.advance(30_000);
    health.handleSourceEvent({ type: 'source-failed', source: 'db', at: clock.now(), error: 'vault source "db": connection refused\n  fix: start it' });
    expect(health.report().sources[0]).toMatchObject({ state: 'failing', stale: false, consecutiveFailures: 1, lastError: 'vault source "db": connection refused' });
    await clock.advance(31_000);
    expect(health.report().sources[0]).toMatchObject({ state: 'stale', stale: true });
    health.handleSourceEvent({ type: 'source-read', source: 'db', at: clock.now(), updatedAt: undefined, cachedAt: undefined });
    expect(health.report().sources[0]).toMatchObject({ state: 'fresh', consecutiveFailures: 0, failuresTotal: 1, lastError: null });
  });

  it('a start from the cache is stale, with its age, until the source itself answers', () => {
    const { health, clock } = model();
    health.handleSourceEvent({ type: 'source-read', source: 'db', at: clock.now(), updatedAt: undefined, cachedAt: new Date(clock.now() - 120_000) });
    expect(health.report().sources[0]).toMatchObject({ state: 'stale', fromCache: true, cacheAgeSeconds: 120, lastSuccessAt: null });
    health.handleSourceEvent({ type: 'source-read', source: 'db', at: clock.now(), updatedAt: undefined, cachedAt: undefined });
    expect(health.report().sources[0]).toMatchObject({ state: 'fresh', fromCache: false, cacheAgeSeconds: null });
  });

  it('counts restarts by reason; the old child of a rotation ending does not take the new one down', () => {
    const { health } = model();
    health.handleChildEvent({ type: 'child-started', pid: 10, reason: 'initial' });
    health.handleChildEvent({ type: 'child-started', pid: 11, reason: 'rotation' });
    health.handleChildEvent({ type: 'child-exited', pid: 10, code: 0, signal: null, reason: 'rotation' });
    expect(health.report().child).toMatchObject({ up: true, pid: 11, restarts: { rotation: 1, crash: 0, signal: 0 } });
    health.handleChildEvent({ type: 'child-exited', pid: 11, code: null, signal: 'SIGKILL', reason: 'crash' });
    expect(health.report().reasons).toEqual([expect.stringMatching(/^the child is not running: it was ended by SIGKILL at /)]);
    health.handleChildEvent({ type: 'child-started', pid: 12, reason: 'signal' });
    expect(health.report().child.restarts).toEqual({ rotation: 1, crash: 0, signal: 1 });
  });

  it('STATUS= says the child, the sources by state and the last rotation', async () => {
    const { health, clock } = model();
    health.handleSourceEvent({ type: 'source-read', source: 'db', at: clock.now(), updatedAt: undefined, cachedAt: undefined });
    health.handleChildEvent({ type: 'child-started', pid: 10, reason: 'initial' });
    health.handleChildEvent({ type: 'child-ready', pid: 10 });
    health.handleSourceEvent({ type: 'secrets-applied', sources: ['db'], at: clock.now() });
    await clock.advance(125_000);
    expect(formatStatusLine(health.report(), clock.now())).toBe('child 10 up 2m; sources: 1 fresh, 0 stale, 0 failing; last rotation 2m ago');
  });
});

describe('HealthModel: a rejected overlap rotation', () => {
  it('the old child is the child again, on the previous secrets, and the rejection is counted', () => {
    const { health } = model();
    health.handleChildEvent({ type: 'child-started', pid: 10, reason: 'initial' });
    health.handleChildEvent({ type: 'child-ready', pid: 10 });
    health.handleChildEvent({ type: 'child-started', pid: 11, reason: 'rotation' });
    health.handleChildEvent({ type: 'child-exited', pid: 11, code: 1, signal: null, reason: 'rejected' });
    health.handleChildEvent({ type: 'rotation-rejected', rejectedPid: 11, keptPid: 10, sources: ['db'] });
    const report = health.report();
    expect(report.child).toMatchObject({ up: true, ready: true, pid: 10, previousSecrets: true, lastExit: { code: 1, reason: 'rejected' } });
    expect(report.rotationsRejected).toBe(1);
    expect(formatStatusLine(report, Date.parse(report.now))).toContain('(on the previous secrets: the last rotation was rejected)');
    health.handleChildEvent({ type: 'child-started', pid: 12, reason: 'rotation' });
    health.handleChildEvent({ type: 'child-ready', pid: 12 });
    expect(health.report().child).toMatchObject({ pid: 12, previousSecrets: false });
  });
});
