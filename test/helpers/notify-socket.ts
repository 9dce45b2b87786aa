import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollUntil } from './poll-until.js';

const LISTENER = fileURLToPath(new URL('../fixtures/notify-listener.py', import.meta.url));

/** One message systemd would have received. */
export interface Notification {
  readonly message: string;
  /** The PID the kernel reports as sender, as systemd sees it. */
  readonly sender: number | null;
  /** Command lines of the sender's children when the message arrived. */
  readonly senderChildren: readonly string[];
}

/** A test notify socket: a small Python listener, since Node cannot bind Unix datagram sockets. */
export class NotifySocket {
  readonly path: string;
  readonly received: Notification[] = [];
  readonly #process: ChildProcess;
  #buffer = '';
  #listening = false;

  constructor(dir: string) {
    this.path = join(dir, 'notify.sock');
    this.#process = spawn('python3', [LISTENER, this.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#process.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#buffer += chunk;
      const lines = this.#buffer.split('\n');
      this.#buffer = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('{')) this.received.push(JSON.parse(line) as Notification);
      if (lines.includes('listening')) this.#listening = true;
    });
  }

  /** Resolves once the socket is bound. */
  ready(): Promise<void> {
    return this.waitFor(() => this.#listening, 'the listener to bind');
  }

  /** Resolves with the first message whose text contains `text`. */
  async message(text: string): Promise<Notification> {
    await this.waitFor(() => this.received.some((n) => n.message.includes(text)), `a ${text} notification`);
    return this.received.find((n) => n.message.includes(text)) as Notification;
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    await pollUntil(predicate, what, { timeoutMs, detail: () => `received: ${JSON.stringify(this.received)}` });
  }

  async close(): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    this.#process.kill('SIGTERM');
    await once(this.#process, 'close');
  }
}
