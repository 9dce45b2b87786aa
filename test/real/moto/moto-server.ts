import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A running moto_server on a random loopback port. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT`: one endpoint for every AWS service moto speaks (Secrets Manager, STS, SSM). */
  readonly endpoint: string;
  /** Forgets every resource (POST /moto-api/reset), so each test starts from an empty account. */
  reset(): Promise<void>;
  /** Stops the server: SIGTERM, then SIGKILL if it lingers. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
/** werkzeug's start-up line, on stderr: ` * Running on http://127.0.0.1:PORT`. */
const RUNNING_LINE = /Running on (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * Starts `moto_server` (the binary of the pinned Python environment) on
 * 127.0.0.1 with port 0, so the kernel picks a free port, and resolves once it
 * says where it listens. A server that exits or stays silent fails with its
 * output; the caller owns `stop()`.
 */
export async function startMoto(binary: string): Promise<MotoServer> {
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1' },
  });
  let output = '';
  const exited = once(child, 'exit');
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`moto_server did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = RUNNING_LINE.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited before it listened:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    await stopProcess(child, exited);
    throw error;
  });
  // Keep draining its request log so a full pipe never blocks the server.
  child.stdout.resume();
  child.stderr.resume();
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    stop() {
      stopping ??= stopProcess(child, exited);
      return stopping;
    },
  };
}

async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
