import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { finalizeReady, type ReadinessConfig } from '../../../src/config/readiness-config.js';
import { probeOnce, waitForReady, type Probe } from '../../../src/child/readiness.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const CONFIG: ReadinessConfig = { check: { kind: 'tcp', host: '127.0.0.1', port: 1 }, timeoutMs: 1_000, intervalMs: 200 };
const CONTEXT = { env: new Map() };

/** A probe that fails until try `passOn` (never when undefined), answering after `takesMs` on the clock. */
function scriptedProbe(clock: FakeClock, passOn: number | undefined, takesMs = 0): { probe: Probe; tries: number[] } {
  const tries: number[] = [];
  const probe: Probe = (_check, _context, signal) =>
    new Promise((resolve) => {
      tries.push(clock.now());
      const answer = (): void => resolve(tries.length === passOn ? { ok: true, detail: 'connected' } : { ok: false, detail: 'ECONNREFUSED' });
      if (takesMs === 0) return answer();
      const timer = clock.setTimeout(answer, takesMs);
      signal.addEventListener('abort', () => {
        clock.clearTimeout(timer);
        resolve({ ok: false, detail: 'connect still pending' });
      });
    });
  return { probe, tries };
}

describe('waitForReady (fake clock)', () => {
  it('tries every interval until the check passes', async () => {
    const clock = new FakeClock();
    const { probe, tries } = scriptedProbe(clock, 3);
    const waiting = waitForReady(CONFIG, { context: CONTEXT, signal: new AbortController().signal, clock, probe });
    await clock.advance(1_000);
    expect(await waiting).toMatchObject({ result: 'ready', attempts: 3, elapsedMs: 400 });
    expect(tries.map((at) => at - tries[0]!)).toEqual([0, 200, 400]);
  });

  it('times out at the deadline, with the last failure', async () => {
    const clock = new FakeClock();
    const { probe, tries } = scriptedProbe(clock, undefined);
    const waiting = waitForReady(CONFIG, { context: CONTEXT, signal: new AbortController().signal, clock, probe });
    await clock.advance(5_000);
    expect(await waiting).toMatchObject({ result: 'timeout', attempts: 6, elapsedMs: 1_000, lastFailure: 'ECONNREFUSED' });
    expect(tries.at(-1)! - tries[0]!).toBe(1_000);
  });

  it('cuts a try that hangs at the deadline', async () => {
    const clock = new FakeClock();
    const { probe } = scriptedProbe(clock, undefined, 60_000);
    const waiting = waitForReady(CONFIG, { context: CONTEXT, signal: new AbortController().signal, clock, probe });
    await clock.advance(1_000);
    expect(await waiting).toMatchObject({ result: 'timeout', attempts: 1, elapsedMs: 1_000, lastFailure: 'no answer before the timeout (connect still pending)' });
  });

  it('ends at once when cancelled (the child exited, or a stop began)', async () => {
    const clock = new FakeClock();
    const { probe } = scriptedProbe(clock, undefined);
    const cancel = new AbortController();
    const waiting = waitForReady(CONFIG, { context: CONTEXT, signal: cancel.signal, clock, probe });
    await clock.advance(300);
    cancel.abort();
    expect(await waiting).toMatchObject({ result: 'aborted', attempts: 2 });
    expect(clock.pending).toBe(0);
  });
});

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('probeOnce (real sockets and processes)', () => {
  const signal = new AbortController().signal;

  it('tcp: passes once something accepts, fails with the errno otherwise', async () => {
    const port = await listen(createServer((socket) => socket.destroy()));
    expect(await probeOnce({ kind: 'tcp', host: '127.0.0.1', port }, CONTEXT, signal)).toEqual({ ok: true, detail: 'connected' });
    servers.pop()?.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await probeOnce({ kind: 'tcp', host: '127.0.0.1', port }, CONTEXT, signal)).toEqual({ ok: false, detail: 'ECONNREFUSED' });
  });

  it.each([
    [200, true],
    [204, true],
    [500, false],
    [302, false],
  ])('http: answering %i is %s', async (status, ok) => {
    const port = await listen(createHttpServer((_request, response) => response.writeHead(status).end()));
    expect(await probeOnce({ kind: 'http', url: `http://127.0.0.1:${port}/healthz` }, CONTEXT, signal)).toEqual({ ok, detail: `HTTP ${status}` });
  });

  it.each([
    [['/bin/true'], { ok: true, detail: 'exit 0' }],
    [['/bin/sh', '-c', 'exit 3'], { ok: false, detail: 'exit 3' }],
    [['/nonexistent/check'], { ok: false, detail: '/nonexistent/check not found' }],
  ] as const)('command %j', async (argv, expected) => {
    expect(await probeOnce({ kind: 'command', argv }, CONTEXT, signal)).toEqual(expected);
  });
});

describe('finalizeReady', () => {
  it('defaults timeout and interval', () => {
    expect(finalizeReady({ tcp: '[::1]:8080' })).toEqual({ check: { kind: 'tcp', host: '::1', port: 8080 }, timeoutMs: 30_000, intervalMs: 200 });
  });

  it.each([
    [{}, 'ready: names no check: give one of tcp, http and command'],
    [{ tcp: '127.0.0.1:80', http: 'http://127.0.0.1/' }, 'ready: gives tcp and http: give exactly one of tcp, http and command'],
    [{ http: 'ftp://127.0.0.1/' }, 'ready.http: ftp is not http or https'],
    [{ http: 'localhost:8080' }, 'ready.http: localhost is not http or https'],
    [{ http: 'not a url' }, 'ready.http: "not a url" is not a URL'],
    [{ tcp: '127.0.0.1:70000' }, 'ready.tcp: port 70000 is out of range'],
    [{ tcp: '127.0.0.1:80', timeout: '0s' }, 'ready.timeout is 0: the child could never be ready in time'],
  ])('%j is refused: %s', (raw, message) => {
    expect(() => finalizeReady(raw)).toThrow(expect.objectContaining({ message, exitCode: 78 }));
  });
});
