import { pollUntil } from '../../helpers/poll-until.js';
import { IMAGES } from './images.js';
import type { Podman } from './podman.js';

/** The fixture app's path inside the container (test/fixtures/container-app.mjs, mounted read-only). */
export const FIXTURE_IN_CONTAINER = '/test/app.mjs';

/** What `podman inspect` says of a container's state. */
export interface ContainerState {
  readonly Status: string;
  readonly Running: boolean;
  readonly Pid: number;
  readonly ExitCode: number;
  readonly StartedAt: string;
}

/** How to start the example image. */
export interface AppContainerOptions {
  readonly label: string;
  /** The host folder mounted read-only at /run/secrets. */
  readonly secrets: string;
  readonly env?: Readonly<Record<string, string>>;
  /** podman run options before the image (`--init`, `--user 1000`, more `-v`). */
  readonly podmanArgs?: readonly string[];
  /** The command after the image; the image's CMD (the shipped app) when absent. */
  readonly command?: readonly string[];
}

/** A container of the example image, started detached, with its logs and state read through podman. */
export class AppContainer {
  readonly name: string;
  readonly #podman: Podman;

  private constructor(podman: Podman, name: string) {
    this.#podman = podman;
    this.name = name;
  }

  /** `podman run -d` of the example image with the secrets folder mounted, no network. */
  static async start(podman: Podman, fixture: string, options: AppContainerOptions): Promise<AppContainer> {
    const name = podman.containerName(options.label);
    const env = Object.entries(options.env ?? {}).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
    await podman.must([
      'run',
      '--detach',
      '--name',
      name,
      '--network',
      'none',
      '--volume',
      `${options.secrets}:/run/secrets:ro`,
      '--volume',
      `${fixture}:${FIXTURE_IN_CONTAINER}:ro`,
      ...env,
      ...(options.podmanArgs ?? []),
      IMAGES.app,
      ...(options.command ?? []),
    ]);
    return new AppContainer(podman, name);
  }

  /** Everything the container wrote so far, stdout and stderr (secretvisor's log) together. */
  async logs(): Promise<string> {
    const result = await this.#podman.must(['logs', this.name]);
    return result.stdout + result.stderr;
  }

  /** Waits until the logs contain `text`; the error carries the logs. */
  async waitForLog(text: string | RegExp, timeoutMs = 30_000): Promise<string> {
    let last = '';
    const probe = async (): Promise<string | undefined> => {
      last = await this.logs();
      return (typeof text === 'string' ? last.includes(text) : text.test(last)) ? last : undefined;
    };
    return pollUntil(probe, `${this.name} to log ${String(text)}`, {
      timeoutMs,
      intervalMs: 200,
      detail: async () => `container logs:\n${last}\nstate: ${JSON.stringify(await this.state().catch(() => 'gone'))}`,
    });
  }

  /** The container's state from `podman inspect`. */
  async state(): Promise<ContainerState> {
    const result = await this.#podman.must(['inspect', '--format', '{{json .State}}', this.name]);
    return JSON.parse(result.stdout) as ContainerState;
  }

  /** How many times podman restarted the container. */
  async restartCount(): Promise<number> {
    const result = await this.#podman.must(['inspect', '--format', '{{.RestartCount}}', this.name]);
    return Number(result.stdout.trim());
  }

  /** Waits until the container has exited and returns its exit code; the error carries the logs. */
  async exitCode(timeoutMs: number): Promise<number> {
    const probe = async (): Promise<ContainerState | undefined> => {
      const now = await this.state();
      return now.Status === 'exited' || now.Status === 'stopped' ? now : undefined;
    };
    const state = await pollUntil(probe, `${this.name} to exit`, {
      timeoutMs,
      intervalMs: 200,
      detail: async () => `container logs:\n${await this.logs().catch(() => '')}`,
    });
    return state.ExitCode;
  }

  /** `podman kill -s SIGNAL`. */
  async kill(signal: string): Promise<void> {
    await this.#podman.must(['kill', '--signal', signal, this.name]);
  }

  /** `podman exec` of a command in the running container; its stdout. */
  async exec(command: readonly string[]): Promise<string> {
    return (await this.#podman.must(['exec', this.name, ...command])).stdout;
  }

  /** `podman stop` with podman's default timeout (10 s), timed; its stderr tells whether podman had to SIGKILL. */
  async stop(): Promise<{ readonly elapsedMs: number; readonly stderr: string }> {
    const result = await this.#podman.must(['stop', this.name], 60_000);
    return { elapsedMs: result.elapsedMs, stderr: result.stderr };
  }
}
