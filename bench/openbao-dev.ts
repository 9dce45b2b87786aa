import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/helpers/processes.js';

/** A running `bao server -dev` on loopback, with its root token and a KV v2 engine at `secret/`. */
export interface OpenBaoDev {
  readonly address: string;
  readonly rootToken: string;
  /** Writes a KV v2 secret (a new version) through the HTTP API; resolves when the server has answered. */
  putKv(path: string, data: Readonly<Record<string, string>>): Promise<void>;
  stop(): Promise<void>;
}

/** Starts OpenBao's in-memory dev server and waits until it answers as unsealed and active. */
export async function startOpenBaoDev(bao: string): Promise<OpenBaoDev> {
  const port = await freePort();
  const rootToken = randomBytes(16).toString('hex');
  const address = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(bao, ['server', '-dev', `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bao server -dev exited with ${child.exitCode}:\n${stderr}`);
    const healthy = await fetch(`${address}/v1/sys/health`).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bao server -dev did not become healthy on ${address} in 30 s:\n${stderr}`);
    }
    await sleep(100);
  }
  return {
    address,
    rootToken,
    async putKv(path, data) {
      const answer = await fetch(`${address}/v1/secret/data/${path}`, {
        method: 'POST',
        headers: { 'X-Vault-Token': rootToken, 'Content-Type': 'application/json' },
        body: JSON.stringify({ data }),
      });
      if (!answer.ok) throw new Error(`OpenBao: writing secret/data/${path} answered ${answer.status}: ${await answer.text()}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
