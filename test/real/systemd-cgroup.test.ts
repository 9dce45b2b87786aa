import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomSecret } from '../helpers/secrets.js';
import { onPath, describeReal } from './tools/require-tool.js';
import { aliveIn, journal, mainPid, show, waitFor } from './systemd/inspect.js';
import { bootMachine, writeInside, type Machine } from './systemd/machine.js';
import { installProduct, REPO } from './systemd/product.js';
import { ensureRootfs } from './systemd/rootfs.js';

// Issue #13 item 6 under a real systemd: the shipped worker unit (Delegate=yes) with its program swapped
// for a child that starts a `setsid sleep` grandchild and exits 3 at once (onExit: restart). Each child
// runs in a cgroup of its own below the unit's; before every restart secretvisor ends that cgroup, so
// the grandchildren, out of the child's process group, do not pile up with the old secrets.

const IS_ROOT = process.geteuid?.() === 0;
const SRC = '/opt/secretvisor-src';
const UNIT = 'secretvisor-worker@cgroup.service';
const LEFT_FILE = '/run/noxus-worker-cgroup/left.txt';
const TEST_TIMEOUT_MS = 180_000;

/** The shipped worker unit, running the setsid fixture with one credential of its own. */
function testUnit(): string {
  const shipped = readFileSync(join(REPO, 'systemd', 'secretvisor-worker@.service'), 'utf8');
  return shipped
    .split('\n')
    .filter((line) => !line.startsWith('LoadCredential='))
    .map((line) =>
      line.startsWith('ExecStart=')
        ? [
            `ExecStart=/usr/local/bin/secretvisor run --log-level debug --config /etc/sv-cgroup/secretvisor.yaml -- ${SRC}/test/fixtures/setsid-grandchild.sh`,
            'LoadCredential=app.env:/etc/sv-cgroup/app.env',
            `Environment=LEFT_FILE=${LEFT_FILE} EXIT_NOW=1`,
          ].join('\n')
        : line,
    )
    .join('\n');
}

describeReal(
  'systemd, for real: a cgroup per child under the shipped unit (Delegate=yes)',
  {
    tools: { debootstrap: onPath('debootstrap'), 'systemd-nspawn': onPath('systemd-nspawn'), nsenter: onPath('nsenter'), root: IS_ROOT ? 'uid 0' : undefined },
    install: 'apt-get install debootstrap systemd-container util-linux, and run the tests as root (as .ci/run does)',
  },
  () => {
    let machine: Machine;
    let work: string;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'sv-systemd-cgroup-'));
      const rootfs = ensureRootfs((line) => process.stderr.write(`${line}\n`));
      const prefix = installProduct(work);
      machine = await bootMachine({
        rootfs,
        name: `sv-cg-${process.pid}`,
        binds: [
          { host: process.execPath, container: '/usr/bin/node' },
          { host: prefix, container: '/usr/local' },
          { host: REPO, container: SRC },
        ],
      });
      await machine.ok(['install', '-d', '-m', '0755', '/etc/sv-cgroup']);
      await writeInside(machine, '/etc/sv-cgroup/app.env', `APP_SECRET=${randomSecret('cgroup')}\n`, '0600');
      await writeInside(machine, '/etc/sv-cgroup/secretvisor.yaml', `version: 1\nsources:\n  app: { type: dotenv, path: /run/credentials/${UNIT}/app.env }\nonExit: restart\n`, '0644');
      await writeInside(machine, '/etc/systemd/system/secretvisor-worker@.service', testUnit(), '0644');
      await machine.ok(['systemctl', 'daemon-reload']);
      await machine.ok(['systemctl', 'start', UNIT], { timeoutMs: 120_000 });
    }, 30 * 60_000);

    afterAll(async () => {
      const problems = machine === undefined ? [] : await machine.dispose();
      if (work !== undefined) rmSync(work, { recursive: true, force: true });
      expect(problems, 'teardown').toEqual([]);
    }, 120_000);

    it(
      'ends each exited child’s cgroup, setsid grandchild included, before the restart',
      async () => {
        const log = async (): Promise<string> => (await journal(machine, ['-u', UNIT])).map((entry) => entry.message).join('\n');
        const lefts = await waitFor(
          async () => {
            const text = await machine.run(['cat', LEFT_FILE]);
            const pids = text.stdout.split('\n').filter(Boolean).map(Number);
            return pids.length >= 3 ? pids : undefined;
          },
          'three children, each with a setsid grandchild',
          90_000,
          log,
        );
        for (const pid of lefts.slice(0, 2)) expect(await aliveIn(machine, pid), `grandchild ${pid} of an earlier child`).toBe(false);
        const text = await log();
        expect(text).toContain(`left ${lefts[0]} running in its process group or cgroup; ending them with SIGTERM`);
        const { ControlGroup: unitGroup } = await show(machine, UNIT, ['ControlGroup']);
        const main = await mainPid(machine, UNIT);
        const own = (await machine.ok(['cat', `/proc/${main}/cgroup`])).split('\n').find((line) => line.startsWith('0::'));
        expect(own).toBe(`0::${unitGroup}/supervisor`);
        expect(text).not.toContain('children run without a cgroup of their own');
      },
      TEST_TIMEOUT_MS,
    );
  },
);
