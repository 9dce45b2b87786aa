import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, RunningCli, baseEnv } from '../helpers/cli.js';
import { pollUntil } from '../helpers/poll-until.js';
import { descendants } from '../helpers/processes.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';

const SERVICE = fileURLToPath(new URL('../fixtures/pid1-service.mjs', import.meta.url));
const ORPHANS = 20;
/** The service's exit code on SIGTERM: secretvisor must end with exactly this. */
const SERVICE_EXIT_CODE = 42;

/** unshare's full path: the tests run secretvisor with other PATHs. */
const UNSHARE =
  (process.env.PATH ?? '')
    .split(':')
    .map((dir) => join(dir, 'unshare'))
    .find((path) => existsSync(path)) ?? 'unshare';

/** Why a PID namespace cannot be used here, or undefined when it can. */
function probeUnshare(): string | undefined {
  const probe = spawnSync(UNSHARE, ['--pid', '--fork', '--mount-proc', '/bin/sh', '-c', 'test $$ -eq 1'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `unshare is not installed (apt-get install util-linux): ${probe.error.message}`;
  if (probe.status !== 0) return `this machine does not allow a PID namespace (unshare --pid --fork --mount-proc): ${probe.stderr.trim() || `exit ${probe.status}`}`;
  return undefined;
}

const noNamespace = probeUnshare();
const noTini = spawnSync('tini', ['--version'], { stdio: 'ignore' }).status === 0 ? undefined : 'tini is not installed (apt-get install tini)';

/** secretvisor running as PID 1 of a fresh PID namespace, as in a container. */
interface Pid1 {
  readonly cli: RunningCli;
  /** secretvisor's PID as the host sees it; signals go here (unshare itself ignores SIGTERM and SIGINT). */
  readonly hostPid: number;
  /** The project folder (app.env is the secret file). */
  readonly dir: string;
}

const PID1_STOP_TIMEOUT_MS = 8_000;

async function startAsPid1(options: { readonly path?: string; readonly serviceArgs?: readonly string[]; readonly onChange?: string } = {}): Promise<Pid1> {
  const dir = tempDir('sv-pid1-');
  writeSecretFile(join(dir, 'app.env'), `API_TOKEN=${randomSecret('pid1-token')}\n`);
  // A long stopTimeout: zombies left in the service's group must not make a stop wait it out.
  writeFileSync(
    join(dir, 'secretvisor.yaml'),
    `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nscopes:\n  global: [app]\nonChange:\n  stopTimeout: ${PID1_STOP_TIMEOUT_MS}ms\n${options.onChange ?? ''}`,
  );
  const child = spawn(
    UNSHARE,
    ['--pid', '--fork', '--kill-child', '--mount-proc', process.execPath, CLI, 'run', '-c', join(dir, 'secretvisor.yaml'), '--', process.execPath, SERVICE, ...(options.serviceArgs ?? [])],
    {
      cwd: dir,
      env: baseEnv({ PATH: options.path ?? process.env.PATH, EXIT_ON_TERM: String(SERVICE_EXIT_CODE), SECRETVISOR_LOG_FORMAT: 'json' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const cli = new RunningCli(child);
  const hostPid = await pollUntil(() => descendants(cli.pid).find((proc) => proc.ppid === cli.pid)?.pid, 'unshare to fork secretvisor');
  return { cli, hostPid, dir };
}

/** The PIDs a process has in each namespace, outermost first (the `NSpid:` line). */
function namespacePids(hostPid: number): number[] {
  const line =
    readFileSync(`/proc/${hostPid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('NSpid:')) ?? '';
  return line.split(/\s+/).slice(1).map(Number);
}

describe('secretvisor as PID 1 (container entrypoint) in a real PID namespace', () => {
  it.for([
    ['SIGTERM', SERVICE_EXIT_CODE],
    ['SIGINT', 130],
  ] as const)('%s reaches the service as itself through tini and secretvisor exits with its code (%i)', async ([signal, code], context) => {
    context.skip(noNamespace !== undefined, noNamespace);
    context.skip(noTini !== undefined, noTini);
    const { cli, hostPid } = await startAsPid1();
    await cli.waitForStdout('ready ');
    expect(namespacePids(hostPid).at(-1)).toBe(1);
    expect(cli.stdout).toContain('parent=tini');

    process.kill(hostPid, signal);
    const result = await cli.exited();
    expect(result.code).toBe(code);
    expect(result.stdout.includes('got SIGINT')).toBe(signal === 'SIGINT');
  });

  it("sends a reload for new secrets as soon as the service under tini has its handler, checking the service's signals, not tini's", async (context) => {
    context.skip(noNamespace !== undefined, noNamespace);
    context.skip(noTini !== undefined, noTini);
    const { cli, hostPid, dir } = await startAsPid1({ onChange: '  env: signal\n  debounce: 50ms\n' });
    await cli.waitForStdout('ready ');
    await cli.waitForStderr('watching sources for changes');
    writeSecretFile(join(dir, 'app.env'), `API_TOKEN=${randomSecret('pid1-next')}\n`);
    await cli.waitForStdout('got SIGHUP');
    process.kill(hostPid, 'SIGHUP');
    await cli.waitFor((c) => c.stdout.split('got SIGHUP').length === 3, 'the forwarded SIGHUP at the service');
    process.kill(hostPid, 'SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(SERVICE_EXIT_CODE);
    expect(result.stderr).not.toContain('has no handler');
  });

  it('forwards other signals to the service', async (context) => {
    context.skip(noNamespace !== undefined, noNamespace);
    context.skip(noTini !== undefined, noTini);
    const { cli, hostPid } = await startAsPid1();
    await cli.waitForStdout('ready ');
    for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) {
      process.kill(hostPid, signal);
      await cli.waitForStdout(`got ${signal}`);
    }
    process.kill(hostPid, 'SIGTERM');
    expect((await cli.exited()).code).toBe(SERVICE_EXIT_CODE);
  });

  it(`reaps ${ORPHANS} double-forked orphans: no zombie is left`, async (context) => {
    context.skip(noNamespace !== undefined, noNamespace);
    context.skip(noTini !== undefined, noTini);
    const { cli, hostPid } = await startAsPid1({ serviceArgs: ['orphans', String(ORPHANS)] });
    await cli.waitForStdout(`orphaned ${ORPHANS}`);
    // Every orphan ends within 0.2 s; once reaped it disappears from the process table.
    await pollUntil(() => !descendants(hostPid).some((proc) => proc.name === 'sleep'), 'every orphan to be reaped', {
      detail: () => {
        const zombies = descendants(hostPid).filter((proc) => proc.state === 'Z');
        return `${zombies.length} zombies left: ${zombies.map((z) => `${z.name}(${z.pid})`).join(', ')}`;
      },
    });
    process.kill(hostPid, 'SIGTERM');
    expect((await cli.exited()).code).toBe(SERVICE_EXIT_CODE);
  });

  it('without tini it warns, and the orphans stay zombies (why the container image installs tini)', async (context) => {
    context.skip(noNamespace !== undefined, noNamespace);
    const { cli, hostPid } = await startAsPid1({ path: '/nonexistent', serviceArgs: ['orphans', String(ORPHANS)] });
    await cli.waitForStderr('without tini');
    await cli.waitForStdout(`orphaned ${ORPHANS}`);
    expect(cli.stdout).not.toContain('parent=tini');
    const zombies = await pollUntil(() => {
      const found = descendants(hostPid).filter((proc) => proc.name === 'sleep' && proc.state === 'Z');
      return found.length === ORPHANS ? found : undefined;
    }, `${ORPHANS} zombies`);
    expect(zombies.every((zombie) => zombie.ppid === hostPid)).toBe(true);
    const stopping = Date.now();
    process.kill(hostPid, 'SIGTERM');
    expect((await cli.exited()).code).toBe(SERVICE_EXIT_CODE);
    expect(Date.now() - stopping, 'zombies in the group do not hold up the stop').toBeLessThan(PID1_STOP_TIMEOUT_MS);
  });
});
