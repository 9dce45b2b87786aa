import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { systemClock, sleepOn, type Clock } from '../clock.js';
import type { SecretValue } from '../secret-value.js';
import type { ReadinessConfig, ReadyCheck } from '../config/readiness-config.js';

/** One try of a check: whether it passed, and if not, why (no value ever: a code, a status, an errno). */
export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** What a probe of a `command` check runs with: the child's environment and user. */
export interface ProbeContext {
  readonly env: ReadonlyMap<string, SecretValue>;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
}

/** Tries a check once; resolves (never rejects) when it passed, failed, or `signal` aborted it. */
export type Probe = (check: ReadyCheck, context: ProbeContext, signal: AbortSignal) => Promise<ProbeResult>;

/** Options of {@link waitForReady}. */
export interface WaitForReadyOptions {
  readonly context: ProbeContext;
  /** Ends the wait at once: the child exited, or a stop began. */
  readonly signal: AbortSignal;
  readonly clock?: Clock | undefined;
  /** {@link probeOnce} unless a test passes a fake. */
  readonly probe?: Probe | undefined;
}

/** How a wait ended: the check passed, the timeout ran out, or it was cancelled; with the tries and the last failure. */
export interface ReadyOutcome {
  readonly result: 'ready' | 'timeout' | 'aborted';
  readonly attempts: number;
  readonly elapsedMs: number;
  /** Why the last try failed, for the log line of a timeout. */
  readonly lastFailure: string | undefined;
}

/**
 * Tries the check every `intervalMs` until it passes, `timeoutMs` has gone by
 * since the call, or `signal` aborts. A try still running at the deadline is
 * cut short: the deadline is the contract, not a hint.
 */
export async function waitForReady(config: ReadinessConfig, options: WaitForReadyOptions): Promise<ReadyOutcome> {
  const clock = options.clock ?? systemClock;
  const probe = options.probe ?? probeOnce;
  const started = clock.now();
  const deadline = started + config.timeoutMs;
  let attempts = 0;
  let lastFailure: string | undefined;
  const outcome = (result: ReadyOutcome['result']): ReadyOutcome => ({ result, attempts, elapsedMs: clock.now() - started, lastFailure });
  for (;;) {
    if (options.signal.aborted) return outcome('aborted');
    const attempt = new AbortController();
    const timer = clock.setTimeout(() => attempt.abort(), Math.max(0, deadline - clock.now()));
    const cancel = (): void => attempt.abort();
    options.signal.addEventListener('abort', cancel, { once: true });
    attempts++;
    const tried = await probe(config.check, options.context, attempt.signal);
    clock.clearTimeout(timer);
    options.signal.removeEventListener('abort', cancel);
    if (options.signal.aborted) return outcome('aborted');
    if (tried.ok) return outcome('ready');
    // A try cut short by the deadline says less than the failure before it.
    lastFailure = attempt.signal.aborted ? (lastFailure ?? `no answer before the timeout (${tried.detail})`) : tried.detail;
    const left = deadline - clock.now();
    if (left <= 0) return outcome('timeout');
    await sleepOn(clock, Math.min(config.intervalMs, left), options.signal);
  }
}

/** Tries a check once for real: a TCP connect, an HTTP(S) GET, or the command. */
export const probeOnce: Probe = (check, context, signal) => {
  switch (check.kind) {
    case 'tcp':
      return probeTcp(check.host, check.port, signal);
    case 'http':
      return probeHttp(check.url, signal);
    case 'command':
      return probeCommand(check.argv, context, signal);
  }
};

function probeTcp(host: string, port: number, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult): void => {
      signal.removeEventListener('abort', abort);
      socket.destroy();
      resolve(result);
    };
    const abort = (): void => done({ ok: false, detail: 'connect still pending' });
    signal.addEventListener('abort', abort, { once: true });
    socket.once('connect', () => done({ ok: true, detail: 'connected' }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, detail: error.code ?? error.message }));
  });
}

// node:http and node:https are loaded by the first HTTP check, not by every start (a few ms of each start without one).
async function probeHttp(url: string, signal: AbortSignal): Promise<ProbeResult> {
  const { request: send } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  return new Promise((resolve) => {
    const request = send(url, { method: 'GET', agent: false, signal }, (response) => {
      const status = response.statusCode ?? 0;
      // The body is not read: the status is the answer.
      response.destroy();
      resolve(status >= 200 && status < 300 ? { ok: true, detail: `HTTP ${status}` } : { ok: false, detail: `HTTP ${status}` });
    });
    request.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, detail: signal.aborted ? 'request still pending' : (error.code ?? error.message) }));
    request.end();
  });
}

function probeCommand(argv: readonly [string, ...string[]], context: ProbeContext, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const env = Object.fromEntries([...context.env].map(([name, value]) => [name, value.reveal()]));
    // Its own group, so a check that hangs is ended with whatever it started; its output is not ours to show.
    const child = spawn(file, args, { env, stdio: 'ignore', detached: true, uid: context.uid, gid: context.gid });
    const abort = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // It ended on its own meanwhile.
      }
    };
    signal.addEventListener('abort', abort, { once: true });
    child.once('error', (error: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', abort);
      resolve({ ok: false, detail: error.code === 'ENOENT' ? `${file} not found` : (error.code ?? error.message) });
    });
    child.once('exit', (code, killed) => {
      signal.removeEventListener('abort', abort);
      resolve(code === 0 ? { ok: true, detail: 'exit 0' } : { ok: false, detail: killed === null ? `exit ${code}` : `ended by ${killed}` });
    });
  });
}
