import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';
import { isAlive, waitForDeath } from '../helpers/processes.js';
import { randomSecret } from '../helpers/secrets.js';
import { describeReal } from '../real/tools/require-tool.js';

// Issue #13 item 6: a grandchild that calls setsid leaves the child's process
// group, so ending the group missed it and it kept running with the old
// secrets. Where cgroup v2 can be written, each child now runs in a cgroup of
// its own, ended whole on a rotation restart, on stop and when the child
// exits by itself.
const GRANDCHILD = fileURLToPath(new URL('../fixtures/setsid-grandchild.sh', import.meta.url));

/** The cgroup v2 mount this process can create groups in, if any. */
function writableCgroup2(): string | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((entry) => entry.split(' - ')[1]?.startsWith('cgroup2 ') === true && entry.split(' ')[3] === '/');
  const mount = line?.split(' ')[4];
  if (mount === undefined) return undefined;
  const own =
    readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('0::'))
      ?.slice(3) ?? '/';
  try {
    accessSync(join(mount, own), constants.W_OK);
    return mount;
  } catch {
    return undefined;
  }
}

const MOUNT = writableCgroup2();

const started: { cli: RunningCli; leftFile: string }[] = [];
afterEach(async () => {
  for (const { cli, leftFile } of started.splice(0)) {
    // Whatever survived holds secretvisor's output pipes open: end it first, or secretvisor's output never closes.
    const children = [...cli.stdout.matchAll(/^ready (\d+)$/gm)].map((match) => Number(match[1]));
    for (const pid of [...leftPids(leftFile), ...children]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await cli.discard();
  }
});

function leftPids(file: string): number[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

function start(onExit: 'exit' | 'restart', env: NodeJS.ProcessEnv = {}): { cli: RunningCli; leftFile: string; dir: string } {
  const dir = makeProject({
    'secretvisor.yaml': `version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nonExit: ${onExit}\nonChange: { debounce: 50ms, stopTimeout: 5s }\n`,
    'app.env': `APP_SECRET=${randomSecret('before')}\n`,
  });
  const leftFile = join(dir, 'left.txt');
  const cli = startCli(['run', '--log-level', 'debug', '--', GRANDCHILD], {
    cwd: dir,
    env: { PATH: process.env.PATH, LEFT_FILE: leftFile, SECRETVISOR_LOG_FORMAT: 'json', ...env },
  });
  started.push({ cli, leftFile });
  return { cli, leftFile, dir };
}

function stat(pid: number): { pgrp: number; session: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [, , pgrp, session] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pgrp: Number(pgrp), session: Number(session) };
}

function cgroupOf(pid: number): string {
  return (
    readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('0::'))
      ?.slice(3) ?? ''
  );
}

async function waitForLeft(cli: RunningCli, leftFile: string, count: number): Promise<number[]> {
  await cli.waitFor(() => leftPids(leftFile).length >= count, `grandchild ${count} to start`);
  return leftPids(leftFile);
}

describeReal(
  'a grandchild that leaves the process group with setsid',
  { tools: { 'a writable cgroup v2 hierarchy': MOUNT }, install: 'run as root on a host with cgroup v2 (or under systemd with Delegate=yes)' },
  () => {
    it('runs in the child cgroup, and is ended by a rotation restart and by stop; the cgroups are removed', async () => {
      const { cli, leftFile, dir } = start('restart');
      await cli.waitForReadyChildren(1);
      const [first] = await waitForLeft(cli, leftFile, 1);
      const firstPid = first as number;
      const child = Number(/^ready (\d+)$/m.exec(cli.stdout)?.[1]);
      expect(stat(firstPid).pgrp).not.toBe(stat(child).pgrp);
      expect(stat(firstPid).session).not.toBe(stat(child).session);
      const group = cgroupOf(firstPid);
      const childGroup = cgroupOf(child);
      const ownGroup = cgroupOf(cli.pid);

      writeFileSync(join(dir, 'app.env'), `APP_SECRET=${randomSecret('after')}\n`);
      await cli.waitForReadyChildren(2);
      const [, second] = await waitForLeft(cli, leftFile, 2);
      expect(isAlive(firstPid), `first grandchild ${firstPid} after the restart`).toBe(false);
      expect(group).toMatch(/\/child-\d+-\d+$/);
      expect(childGroup).toBe(group);
      expect(ownGroup).toMatch(/\/supervisor$/);
      expect(existsSync(join(MOUNT as string, group))).toBe(false);

      const secondGroup = cgroupOf(second as number);
      cli.kill('SIGTERM');
      await cli.exited();
      expect(await waitForDeath(second as number, 1)).toBe(true);
      expect(existsSync(join(MOUNT as string, secondGroup))).toBe(false);
    }, 60_000);

    it.runIf(cgroupOf(process.pid) === '/')(
      'removes the empty cgroup folders a SIGKILLed secretvisor left at the root, and its own at exit',
      async () => {
        const dead = spawnSync('true').pid as number;
        const stale = join(MOUNT as string, `secretvisor-${dead}-0badc0de`);
        mkdirSync(join(stale, 'supervisor'), { recursive: true });
        const { cli } = start('restart');
        await cli.waitForReadyChildren(1);
        expect(existsSync(stale)).toBe(false);
        const own = join(MOUNT as string, cgroupOf(cli.pid), '..');
        expect(existsSync(own)).toBe(true);
        cli.kill('SIGTERM');
        await cli.exited();
        expect(existsSync(own)).toBe(false);
      },
      60_000,
    );

    it('gives a reload signal to the child and its group only: the grandchild that left the group is neither reloaded nor ended by it', async () => {
      const { cli, leftFile } = start('restart', { TRAP_HUP: '1' });
      await cli.waitForReadyChildren(1);
      const [left] = await waitForLeft(cli, leftFile, 1);
      cli.kill('SIGHUP');
      await cli.waitForStdout('got SIGHUP');
      // SIGHUP's default action ends a sleep at once: a grandchild it reached is dead by now.
      expect(isAlive(left as number), `grandchild ${left} after the SIGHUP`).toBe(true);
      cli.kill('SIGTERM');
      await cli.exited();
      expect(await waitForDeath(left as number, 1)).toBe(true);
    }, 60_000);

    it('is ended when the child exits by itself (onExit: exit), before secretvisor exits with its code', async () => {
      const { cli, leftFile } = start('exit', { EXIT_NOW: '1' });
      const result = await cli.exited();
      expect(result.code).toBe(3);
      const [left] = leftPids(leftFile);
      expect(left).toBeDefined();
      expect(isAlive(left as number)).toBe(false);
      expect(logText(result.stderr)).toContain(`left ${left} running in its process group or cgroup; ending them with SIGTERM`);
    }, 60_000);
  },
);
