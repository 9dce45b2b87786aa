import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TestContext, afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../helpers/poll-until.js';
import { expectNoLeak } from '../../helpers/secrets.js';
import { onPath, describeReal } from '../tools/require-tool.js';
import { AppContainer, FIXTURE_IN_CONTAINER, type AppContainerOptions } from './app-container.js';
import { buildAppImage, importBaseImage, importInstallImage } from './images.js';
import { Podman } from './podman.js';
import { ensureRootfs } from './rootfs.js';
import { type RotationKind, digest, writeSecretsFolder } from './secrets-folder.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/container-app.mjs', import.meta.url));
const FIXTURE_COMMAND = ['node', FIXTURE_IN_CONTAINER];
/** The fixture's exit code on SIGTERM: the container must end with exactly this. */
const APP_EXIT_CODE = 42;
/** examples/container/secretvisor.yaml's onChange.stopTimeout, below podman's (and Docker's) 10 s. */
const CONFIG_STOP_TIMEOUT_MS = 8_000;
const PODMAN_STOP_TIMEOUT_MS = 10_000;
/** podman stop's warning when it had to SIGKILL the container itself. */
const PODMAN_KILLED = /resorting to SIGKILL/i;
const ORPHANS = 20;
/** An unsafe mount must end the container this fast (the example's start-up timeout is secretvisor's default, 60 s). */
const UNSAFE_EXIT_WITHIN_MS = 20_000;

const whenRoot = process.getuid?.() === 0 ? 'root' : undefined;
const tools = {
  podman: onPath('podman'),
  runc: onPath('runc'),
  buildah: onPath('buildah'),
  catatonit: onPath('catatonit'),
  debootstrap: onPath('debootstrap'),
  root: whenRoot,
};
const install = 'apt-get install podman runc buildah catatonit debootstrap (as .ci/run does), and run the tests as root (rootful podman, debootstrap)';

describeReal('examples/container on real podman (rootful, runc), image built from a debootstrapped bookworm', { tools, install }, () => {
  let podman: Podman | undefined;

  beforeAll(async () => {
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    const started = Date.now();
    podman = await Podman.create();
    const made = podman;
    const rootfs = await ensureRootfs(log);
    const rootfsAt = Date.now();
    // The base image is disk work, the install mostly waiting on the npm registry: both at once.
    await Promise.all([importBaseImage(made, rootfs), importInstallImage(made)]);
    await buildAppImage(made);
    const seconds = (since: number): string => ((Date.now() - since) / 1000).toFixed(1);
    log(`containers: rootfs in ${((rootfsAt - started) / 1000).toFixed(1)} s, images in ${seconds(rootfsAt)} s (podman state in ${made.dir})`);
  }, 30 * 60_000);

  afterAll(async () => {
    await podman?.destroy();
  }, 5 * 60_000);

  /**
   * A private host folder for one test, removed when that test ends (the tests run concurrently, so
   * nothing may be cleaned up "after each" for all of them at once).
   */
  function hostDir(context: TestContext, prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(dir, 0o700);
    context.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Starts a container of the example image; it is removed when the test ends, however it ends. */
  async function start(context: TestContext, options: AppContainerOptions): Promise<AppContainer> {
    const engine = podman;
    if (engine === undefined) throw new Error('containers: podman was not set up (see beforeAll)');
    const container = await AppContainer.start(engine, FIXTURE, options);
    context.onTestFinished(async () => {
      await engine.run(['rm', '--force', '--time', '0', container.name], 120_000);
    });
    return container;
  }

  /** The fixture as the image's service, reporting the digests of `names` and exiting 42 on SIGTERM. */
  function startFixture(context: TestContext, options: Omit<AppContainerOptions, 'command'> & { readonly names?: readonly string[]; readonly args?: readonly string[] }): Promise<AppContainer> {
    return start(context, {
      ...options,
      env: { SECRETVISOR_LOG_FORMAT: 'json', EXIT_ON_TERM: String(APP_EXIT_CODE), APP_ENV_NAMES: (options.names ?? []).join(','), ...options.env },
      command: [...FIXTURE_COMMAND, ...(options.args ?? [])],
    });
  }

  async function expectNoLeakIn(container: AppContainer): Promise<void> {
    expectNoLeak(await container.logs(), `${container.name}'s logs`);
  }

  /** The container's processes from its own `ps`: state and name. */
  // `name` is the kernel's comm, which a process may change (Node.js 24 names its main thread
  // "MainThread"); `program` is the file name of argv[0], which tells what PID 1 runs.
  async function processes(container: AppContainer): Promise<{ pid: number; state: string; name: string; program: string }[]> {
    const out = await container.exec(['ps', '-e', '-o', 'pid=,stat=,comm=,args=']);
    return out
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .map(([pid, state, name, argv0]) => ({ pid: Number(pid), state: state ?? '', name: name ?? '', program: (argv0 ?? '').split('/').pop() ?? '' }));
  }

  // Each test has its own containers and folders, so they run side by side (vitest's maxConcurrency)
  // to keep the suite's time down; the ones that measure time run after them, one at a time.
  describe.concurrent('side by side', () => {
    it.for([
      { service: 'worker', pool: 'finance', sees: ['LLM_API_KEY', 'MAPS_API_KEY', 'BANKING_API_TOKEN'] },
      { service: 'worker', pool: undefined, sees: ['LLM_API_KEY', 'MAPS_API_KEY'] },
      { service: 'frontend', pool: undefined, sees: [] },
    ])('the shipped app gets exactly the secrets of SECRETVISOR_SERVICE=$service SECRETVISOR_POOL=$pool', async ({ service, pool, sees }, context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-scope-'));
      const { values } = secrets;
      const env: Record<string, string> = { SECRETVISOR_SERVICE: service, ...(pool === undefined ? {} : { SECRETVISOR_POOL: pool }) };
      const container = await start(context, { label: 'scope', secrets: secrets.path, env });
      const logs = await container.waitForLog(/^app pid .*$/m);
      const databaseUrl = `postgres://${values.DB_USER}:${values.DB_PASSWORD}@db:5432/noxus`;
      const scoped = { LLM_API_KEY: values.LLM_API_KEY, MAPS_API_KEY: values.MAPS_API_KEY, BANKING_API_TOKEN: values.BANKING_API_TOKEN };
      const lengths = [
        `DATABASE_URL=(${databaseUrl.length} chars)`,
        `DB_PASSWORD=(${values.DB_PASSWORD.length} chars)`,
        `REDIS_URL=(${values.REDIS_URL.length} chars)`,
        ...Object.entries(scoped).map(([name, value]) => `${name}=${(sees as string[]).includes(name) ? `(${value.length} chars)` : '-'}`),
      ];
      // The README's line: the app's parent is tini, which secretvisor (PID 1) put in front of it.
      expect(logs).toMatch(new RegExp(`^app pid \\d+ \\(parent: tini\\) sees ${lengths.join(' ').replace(/[()]/g, '\\$&')}$`, 'm'));
      await container.stop();
      await expectNoLeakIn(container);
    });

    it('the values are exact: the template is rendered, and SECRETVISOR_* does not reach the app', async (context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-values-'));
      const { values } = secrets;
      const names = ['DATABASE_URL', 'DB_USER', 'DB_PASSWORD', 'REDIS_URL', 'LLM_API_KEY', 'MAPS_API_KEY', 'BANKING_API_TOKEN', 'SECRETVISOR_SERVICE', 'SECRETVISOR_POOL'];
      const container = await startFixture(context, { label: 'values', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'worker', SECRETVISOR_POOL: 'finance' }, names });
      const logs = await container.waitForLog('env SECRETVISOR_POOL=');
      const expected: Record<string, string> = {
        DATABASE_URL: digest(`postgres://${values.DB_USER}:${values.DB_PASSWORD}@db:5432/noxus`),
        DB_USER: digest(values.DB_USER),
        DB_PASSWORD: digest(values.DB_PASSWORD),
        REDIS_URL: digest(values.REDIS_URL),
        LLM_API_KEY: digest(values.LLM_API_KEY),
        MAPS_API_KEY: digest(values.MAPS_API_KEY),
        BANKING_API_TOKEN: digest(values.BANKING_API_TOKEN),
        SECRETVISOR_SERVICE: '-',
        SECRETVISOR_POOL: '-',
      };
      for (const [name, value] of Object.entries(expected)) expect(logs, name).toContain(`env ${name}=${value}\n`);
      await container.stop();
      await expectNoLeakIn(container);
    });

    it('podman kill -s HUP, USR1, USR2 and WINCH reach the app as sent', async (context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-signals-'));
      const container = await startFixture(context, { label: 'signals', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend' } });
      await container.waitForLog('ready pid=');
      for (const signal of ['HUP', 'USR1', 'USR2', 'WINCH']) {
        await container.kill(signal);
        await container.waitForLog(`got SIG${signal}\n`);
      }
      const logs = await container.logs();
      expect(logs).not.toContain('got SIGTERM');
      expect((await container.state()).Running).toBe(true);
      await container.stop();
      expect(await container.exitCode(10_000)).toBe(APP_EXIT_CODE);
      await expectNoLeakIn(container);
    });

    it("a forwarded reload signal goes to the app at once, judged by the app's handlers, not tini's signal mask (issue #17)", async (context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-mask-'));
      const container = await startFixture(context, { label: 'mask', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend' } });
      await container.waitForLog('ready pid=');
      for (const signal of ['HUP', 'USR1', 'USR2']) {
        await container.kill(signal);
        await container.waitForLog(`got SIG${signal}\n`);
      }
      expect(await container.logs(), 'secretvisor judged the app by tini, which catches nothing').not.toMatch(/has no handler for SIG/);
      await container.stop();
      await expectNoLeakIn(container);
    });

    it("podman kill -s INT reaches the app as SIGINT, and the container ends with the app's own exit code (issue #17)", async (context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-int-'));
      const container = await startFixture(context, { label: 'sigint', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend' } });
      await container.waitForLog('ready pid=');
      await container.kill('INT');
      const code = await container.exitCode(PODMAN_STOP_TIMEOUT_MS);
      const logs = await container.logs();
      expect(logs).toContain('got SIGINT');
      expect(logs).not.toContain('got SIGTERM');
      expect(code).toBe(130);
      await expectNoLeakIn(container);
    });

    it.for([
      // secretvisor (node) is PID 1 and puts tini in front of the app.
      { how: 'tini in the image', podmanArgs: [], pid1: 'node', tiniParent: true },
      // podman mounts its init_path (catatonit, see podman.ts) as /run/podman-init; secretvisor is PID 2 and starts the app itself.
      { how: 'podman run --init', podmanArgs: ['--init'], pid1: 'podman-init', tiniParent: false },
    ])(`${ORPHANS} orphans leave no zombie with $how`, async ({ podmanArgs, pid1, tiniParent }, context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-orphans-'));
      const container = await startFixture(context, { label: 'orphans', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend' }, podmanArgs, args: ['orphans', String(ORPHANS)] });
      const logs = await container.waitForLog(`orphaned ${ORPHANS}`);
      expect((await processes(container)).find((proc) => proc.pid === 1)?.program).toBe(pid1);
      expect(/^ready pid=\d+ uid=\d+ parent=tini$/m.test(logs)).toBe(tiniParent);
      // Each orphan sleeps 0.2 s; once reaped it is gone from the process table.
      await pollUntil(async () => !(await processes(container)).some((proc) => proc.name === 'sleep'), 'every orphan to end and be reaped', {
        timeoutMs: 20_000,
        intervalMs: 100,
        detail: async () => {
          const zombies = (await processes(container)).filter((proc) => proc.state.startsWith('Z'));
          return `${zombies.length} zombies left: ${zombies.map((z) => `${z.name}(${z.pid})`).join(', ')}`;
        },
      });
      expect((await processes(container)).filter((proc) => proc.state.startsWith('Z'))).toEqual([]);
      await container.stop();
      expect(await container.exitCode(10_000)).toBe(APP_EXIT_CODE);
    });

    it(`without tini and without --init, the ${ORPHANS} orphans stay zombies and secretvisor says so (what the two above prevent)`, async (context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-zombies-'));
      // /dev/null over tini: not executable, so secretvisor as PID 1 finds no tini on PATH.
      const container = await startFixture(context, {
        label: 'zombies',
        secrets: secrets.path,
        env: { SECRETVISOR_SERVICE: 'frontend' },
        podmanArgs: ['--volume', '/dev/null:/usr/bin/tini:ro'],
        args: ['orphans', String(ORPHANS)],
      });
      await container.waitForLog(`orphaned ${ORPHANS}`);
      expect(await container.logs()).toContain('running as PID 1 without tini');
      const zombies = await pollUntil(
        async () => {
          const found = (await processes(container)).filter((proc) => proc.name === 'sleep' && proc.state.startsWith('Z'));
          return found.length === ORPHANS ? found : undefined;
        },
        `${ORPHANS} zombie sleeps`,
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      expect(zombies).toHaveLength(ORPHANS);
      await container.stop();
      expect(await container.exitCode(10_000)).toBe(APP_EXIT_CODE);
    });

    it.for(['in place', 'rename', '..data swap'] as const)('a host-side rotation (%s) of the mounted folder restarts the app, not the container', async (how: RotationKind, context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-rotate-'), { kubernetesLayout: how === '..data swap' });
      const container = await startFixture(context, { label: 'rotate', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend' }, names: ['DB_PASSWORD'] });
      await container.waitForLog(`env DB_PASSWORD=${digest(secrets.values.DB_PASSWORD)}\n`);
      const before = await container.state();

      const rotated = secrets.rotate(how);
      const logs = await container.waitForLog(`env DB_PASSWORD=${digest(rotated)}\n`);
      expect(logs.match(/^ready pid=/gm), 'the app was started twice: once, then once for the new secret').toHaveLength(2);
      expect(logs).toContain('got SIGTERM');
      const after = await container.state();
      expect(after.Running).toBe(true);
      expect(after.Pid, "the container's PID 1 (secretvisor) is the same process").toBe(before.Pid);
      expect(after.StartedAt).toBe(before.StartedAt);
      expect(await container.restartCount()).toBe(0);
      await container.stop();
      expect(await container.exitCode(10_000)).toBe(APP_EXIT_CODE);
      await expectNoLeakIn(container);
    });

    it.for([
      { user: '1000', owner: 1000 },
      { user: '1000:1000', owner: 1000 },
      { user: '0', owner: 0 },
    ])('podman run --user $user works with secrets owned by uid $owner', async ({ user, owner }, context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-user-'), { uid: owner });
      const container = await startFixture(context, { label: 'user', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend' }, podmanArgs: ['--user', user], names: ['DB_PASSWORD'] });
      const logs = await container.waitForLog(`env DB_PASSWORD=${digest(secrets.values.DB_PASSWORD)}\n`);
      expect(logs).toMatch(new RegExp(`^ready pid=\\d+ uid=${owner} parent=tini$`, 'm'));
      await container.stop();
      expect(await container.exitCode(10_000)).toBe(APP_EXIT_CODE);
      await expectNoLeakIn(container);
    });
  });

  describe('timed, one at a time', () => {
    it(`podman stop ends the container with the app's exit code, well inside the ${PODMAN_STOP_TIMEOUT_MS / 1000} s stop timeout`, async (context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-stop-'));
      const container = await startFixture(context, { label: 'stop', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend' } });
      await container.waitForLog('ready pid=');
      const stop = await container.stop();
      expect(stop.stderr).not.toMatch(PODMAN_KILLED);
      expect(await container.exitCode(10_000)).toBe(APP_EXIT_CODE);
      expect(stop.elapsedMs).toBeLessThan(PODMAN_STOP_TIMEOUT_MS);
      expect(await container.logs()).toContain('got SIGTERM');
      await expectNoLeakIn(container);
    });

    it(`an app that needs 20 s to stop is SIGKILLed by secretvisor after stopTimeout (${CONFIG_STOP_TIMEOUT_MS / 1000} s), before podman's own SIGKILL`, async (context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-slow-'));
      const container = await startFixture(context, { label: 'slow-stop', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend', STOP_DELAY_MS: '20000' } });
      await container.waitForLog('ready pid=');
      const stop = await container.stop();
      expect(stop.stderr, 'podman had to SIGKILL the container: secretvisor did not end within the stop timeout').not.toMatch(PODMAN_KILLED);
      expect(await container.exitCode(10_000)).toBe(128 + 9);
      expect(stop.elapsedMs).toBeGreaterThanOrEqual(CONFIG_STOP_TIMEOUT_MS - 500);
      await expectNoLeakIn(container);
    });

    it.for([
      { mistake: 'a secret file readable by others (0644)', names: /DB_PASSWORD/, fix: /chmod/, spoil: (platform: string) => chmodSync(join(platform, 'DB_PASSWORD'), 0o644) },
      { mistake: 'a secret file owned by another uid', names: /DB_PASSWORD/, fix: /chown/, spoil: (platform: string) => chownSync(join(platform, 'DB_PASSWORD'), 2000, 2000) },
      { mistake: "a secrets folder the image's user cannot read (root, 0700)", names: /platform/, fix: /chown|chmod/, spoil: (platform: string) => chownSync(platform, 0, 0) },
    ])('an unsafe mount, $mistake, ends the container with 77 at once, naming the path and the fix', async ({ names, fix, spoil }, context) => {
      const secrets = writeSecretsFolder(hostDir(context, 'sv-ctr-unsafe-'));
      spoil(join(secrets.path, 'platform'));
      const started = Date.now();
      const container = await startFixture(context, { label: 'unsafe', secrets: secrets.path, env: { SECRETVISOR_SERVICE: 'frontend' } });
      const code = await container.exitCode(UNSAFE_EXIT_WITHIN_MS);
      expect(Date.now() - started).toBeLessThan(UNSAFE_EXIT_WITHIN_MS);
      const logs = await container.logs();
      expect(code, logs).toBe(77);
      expect(logs).not.toContain('ready pid=');
      expect(logs).toMatch(names);
      expect(logs).toMatch(fix);
      await expectNoLeakIn(container);
    });
  });
});
