import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { expectNoLeak, randomSecret } from '../helpers/secrets.js';
import { onPath, describeReal } from './tools/require-tool.js';
import { aliveIn, environOf, idsOf, journal, mainPid, serviceChild, show, waitFor } from './systemd/inspect.js';
import { bootMachine, writeInside, type Machine } from './systemd/machine.js';
import { installProduct, REPO } from './systemd/product.js';
import { ensureRootfs } from './systemd/rootfs.js';

// examples/systemd-vm installed by its own install.sh on a real systemd (Debian 12, booted in
// systemd-nspawn), with random credentials in place of the example ones. After install the test adds
// what an operator would: a file output (files:) and a pool "rotation" whose source lives in its unit's
// StateDirectory=, so rotation and start-up waits have something to act on; the units are the shipped ones.

const IS_ROOT = process.geteuid?.() === 0;
const SRC = '/opt/secretvisor-src';
const UNITS = ['secretvisor-frontend.service', 'secretvisor-backend.service', 'secretvisor-worker@finance.service', 'secretvisor-worker@research.service'];
const ROTATION = 'secretvisor-worker@rotation.service';
const ROTATION_DIR = '/var/lib/private/noxus-worker-rotation';
/**
 * The journal priority of secretvisor's warnings. 6 (info) while secretvisor writes plain JSON lines to
 * stderr (journald files them all at the unit's SyslogLevel=info); 4 once it prefixes each line with
 * journald's `<N>` priority (the operability issue), when `journalctl -p warning` lists them too.
 */
const WARNING_PRIORITY = 4;
/** Each step waits on events with bounds of its own; this only catches a hang. */
const TEST_TIMEOUT_MS = 180_000;

const db = { user: randomSecret('db-user'), password: randomSecret('db-password') };
const platform = {
  DB_USER: db.user,
  DB_PASSWORD: db.password,
  REDIS_URL: `redis://:${randomSecret('redis')}@redis.internal:6379/0`,
  AUTH_SIGNING_KEY: randomSecret('auth-signing-key'),
};
const workerKeys = { LLM_API_KEY: randomSecret('llm-api-key'), MAPS_API_KEY: randomSecret('maps-api-key') };
const finance = { BANKING_API_TOKEN: randomSecret('banking-token') };
const research = { LLM_API_KEY: randomSecret('research-llm-key') };
const global = { ...platform, DATABASE_URL: `postgres://${db.user}:${db.password}@db.internal:5432/noxus` };
/** What each unit's service must receive, and nothing else of the credentials. */
const EXPECTED: Record<string, Record<string, string>> = {
  'secretvisor-frontend.service': global,
  'secretvisor-backend.service': global,
  'secretvisor-worker@finance.service': { ...global, ...workerKeys, ...finance },
  'secretvisor-worker@research.service': { ...global, ...workerKeys, ...research },
};
const SECRET_NAMES = [...new Set(Object.values(EXPECTED).flatMap((scope) => Object.keys(scope)))];
const ALL_VALUES = [...Object.values(global), ...Object.values(workerKeys), ...Object.values(finance), ...Object.values(research)];

const dotenv = (values: Record<string, string>): string =>
  `${Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
const CREDENTIALS: Record<string, string> = {
  'platform.env': dotenv(platform),
  'llm-api-key': `${workerKeys.LLM_API_KEY}\n`,
  'maps-api-key': `${workerKeys.MAPS_API_KEY}\n`,
  'pool-finance.env': dotenv(finance),
  'pool-research.env': dotenv(research),
  // The template loads pool-%i.env for every pool; the rotation pool's secrets live in its state folder.
  'pool-rotation.env': '# the rotation pool reads /var/lib/noxus-worker-rotation/pool.env\n',
};

describeReal(
  'systemd, for real: examples/systemd-vm on a booted systemd (systemd-nspawn)',
  {
    tools: { debootstrap: onPath('debootstrap'), 'systemd-nspawn': onPath('systemd-nspawn'), nsenter: onPath('nsenter'), root: IS_ROOT ? 'uid 0' : undefined },
    install: 'apt-get install debootstrap systemd-container util-linux, and run the tests as root (as .ci/run does)',
  },
  () => {
    let machine: Machine;
    let work: string;
    const timings: string[] = [];
    const started = Date.now();
    const step = (what: string, since: number) => timings.push(`${what} ${((Date.now() - since) / 1000).toFixed(1)} s`);

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'sv-systemd-'));
      let since = Date.now();
      const rootfs = ensureRootfs((line) => process.stderr.write(`${line}\n`));
      step('rootfs', since);
      since = Date.now();
      const prefix = installProduct(work);
      step('npm pack + install', since);
      since = Date.now();
      machine = await bootMachine({
        rootfs,
        name: `sv-${process.pid}`,
        binds: [
          { host: process.execPath, container: '/usr/bin/node' },
          { host: prefix, container: '/usr/local' },
          { host: REPO, container: SRC },
        ],
      });
      step('boot', since);
      since = Date.now();
      // The operator's own credentials, in place before install.sh (which never copies over them).
      await machine.ok(['install', '-d', '-m', '0700', '-o', 'root', '-g', 'root', '/etc/noxus/credentials']);
      for (const [name, content] of Object.entries(CREDENTIALS)) await writeInside(machine, `/etc/noxus/credentials/${name}`, content, '0600');
      const install = await machine.run([`${SRC}/examples/systemd-vm/install.sh`], { timeoutMs: 180_000 });
      expect(install.code, `install.sh failed:\n${install.stdout}\n${install.stderr}`).toBe(0);
      expectNoLeak(install.stdout + install.stderr, 'install.sh output');
      await addFileOutputAndRotationPool(machine);
      await machine.ok(['systemctl', 'restart', ...UNITS], { timeoutMs: 120_000 });
      step('install.sh + restart', since);
    }, 30 * 60_000);

    afterAll(async () => {
      const since = Date.now();
      const problems = machine === undefined ? [] : await machine.dispose();
      if (work !== undefined) rmSync(work, { recursive: true, force: true });
      step('power off', since);
      process.stderr.write(`real-systemd: ${timings.join(', ')}; suite ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      expect(problems, 'teardown').toEqual([]);
    }, 120_000);

    it(
      'install.sh starts the four units, each active as a user of its own that systemd allocated',
      async () => {
        const users = new Map<string, number>();
        for (const unit of UNITS) {
          const state = await show(machine, unit, ['ActiveState', 'SubState', 'MainPID', 'NRestarts']);
          expect(state, unit).toMatchObject({ ActiveState: 'active', SubState: 'running', NRestarts: '0' });
          const { uid } = await idsOf(machine, Number(state.MainPID));
          users.set(unit, uid);
          // DynamicUser= ids: 61184–65519, never a static account.
          expect(uid, unit).toBeGreaterThanOrEqual(61184);
          expect(uid, unit).toBeLessThanOrEqual(65519);
          const child = await serviceChild(machine, Number(state.MainPID));
          expect(child, `${unit} runs its service`).toBeDefined();
          expect((await idsOf(machine, child as number)).uid, `${unit}'s service runs as its user`).toBe(uid);
        }
        expect(new Set(users.values()).size).toBe(UNITS.length);
      },
      TEST_TIMEOUT_MS,
    );

    it.for(UNITS)("%s: the service has exactly its scope's secrets, and its file output", { timeout: TEST_TIMEOUT_MS }, async (unit) => {
      const child = (await serviceChild(machine, await mainPid(machine, unit))) as number;
      const environ = await environOf(machine, child);
      const expected = EXPECTED[unit] as Record<string, string>;
      const received = Object.fromEntries(SECRET_NAMES.filter((name) => environ.has(name)).map((name) => [name, environ.get(name)]));
      expect(received).toEqual(expected);
      const text = [...environ.values()].join('\n');
      for (const value of ALL_VALUES.filter((value) => !Object.values(expected).includes(value))) expect(text.includes(value), `${unit} holds a secret outside its scope`).toBe(false);
      expect(environ.has('NOTIFY_SOCKET'), 'the service never receives NOTIFY_SOCKET').toBe(false);
      const file = environ.get('AUTH_SIGNING_KEY_FILE') as string;
      expect(file).toMatch(new RegExp(`^/run/noxus-${unit.replace('secretvisor-', '').replace('@', '-').replace('.service', '')}/`));
      expect(await machine.ok(['cat', file])).toBe(platform.AUTH_SIGNING_KEY);
      expect((await machine.ok(['stat', '-c', '%a %u', file])).trim()).toBe(`400 ${(await idsOf(machine, child)).uid}`);
    });

    it(
      "the frontend's identity cannot read the worker's environ, runtime files or credentials, nor signal it",
      async () => {
        const frontend = await mainPid(machine, 'secretvisor-frontend.service');
        const { uid, gid } = await idsOf(machine, frontend);
        const workerUnit = 'secretvisor-worker@finance.service';
        const workerMain = await mainPid(machine, workerUnit);
        const worker = (await serviceChild(machine, workerMain)) as number;
        const workerFile = (await environOf(machine, worker)).get('AUTH_SIGNING_KEY_FILE') as string;
        const attacks: Record<string, string[]> = {
          "the worker's environ": ['cat', `/proc/${worker}/environ`],
          "the worker's secretvisor's environ": ['cat', `/proc/${workerMain}/environ`],
          "the worker's runtime file": ['cat', workerFile],
          "the worker's runtime folder": ['ls', '/run/noxus-worker-finance'],
          "the worker's LLM key credential": ['cat', `/run/credentials/${workerUnit}/llm-api-key`],
          "the worker's pool credential": ['cat', `/run/credentials/${workerUnit}/pool-finance.env`],
          'SIGHUP to the worker': ['kill', '-HUP', String(worker)],
          "SIGTERM to the worker's secretvisor": ['kill', '-TERM', String(workerMain)],
        };
        const asFrontend = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--'];
        // From inside the frontend's sandbox (its mount namespace: /proc with ProtectProc=invisible, its
        // own /tmp), as a compromised frontend would; and as its uid outside it, so the refusal is the
        // uid's and not only the sandbox's.
        const vantages = { "inside the frontend's sandbox": ['nsenter', '-t', String(frontend), '-m', '--', ...asFrontend], "as the frontend's uid": asFrontend };
        for (const [vantage, prefix] of Object.entries(vantages)) {
          for (const [what, argv] of Object.entries(attacks)) {
            const result = await machine.run([...prefix, ...argv]);
            expect(result.code, `${vantage}: ${what} was not refused`).not.toBe(0);
            expect(result.stderr, `${vantage}: ${what}`).toMatch(/Permission denied|Operation not permitted|No such file or directory|No such process/);
            expectNoLeak(result.stdout, `${vantage}: ${what}`);
          }
        }
        expect(await aliveIn(machine, worker)).toBe(true);
        expect(await show(machine, workerUnit, ['NRestarts', 'MainPID'])).toEqual({ NRestarts: '0', MainPID: String(workerMain) });
        const reloads = (await journal(machine, ['-u', workerUnit])).filter((entry) => entry.message === 'worker reloading');
        expect(reloads).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a missing source fails the start at once (66, no restart loop); once it exists, systemctl start returns only after READY=1',
      async () => {
        const failed = await machine.run(['systemctl', 'start', ROTATION], { timeoutMs: 120_000 });
        expect(failed.code, 'systemctl start succeeded without the source').not.toBe(0);
        expect(await show(machine, ROTATION, ['ExecMainStatus', 'NRestarts'])).toMatchObject({ ExecMainStatus: '66', NRestarts: '0' });
        const error = await waitFor(
          async () => (await journal(machine, ['-u', ROTATION])).find((entry) => entry.message.includes('/var/lib/noxus-worker-rotation/pool.env')),
          "secretvisor's error naming the rotation pool's missing file",
          60_000,
        );
        expect(error.priority, 'journal priority of secretvisor errors').toBe(3);
        await writeRotationSecret(machine, randomSecret('rotating-token-1'));
        const result = await machine.run(['systemctl', 'start', ROTATION], { timeoutMs: 120_000 });
        expect(result.code, result.stderr).toBe(0);
        const state = await show(machine, ROTATION, ['ActiveState', 'SubState', 'MainPID']);
        expect(state).toMatchObject({ ActiveState: 'active', SubState: 'running' });
        // READY=1 comes after the service started with its secrets: it is there the moment start returns.
        const child = await serviceChild(machine, Number(state.MainPID));
        expect(child).toBeDefined();
        expect((await environOf(machine, child as number)).get('ROTATING_TOKEN')).toBe(rotationValue);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'journalctl -p warning shows secretvisor’s warnings and errors, at their journald priority',
      async () => {
        const entries = (await journal(machine, ['-u', ROTATION, '-p', 'warning'])).filter((entry) => entry.message.includes('/var/lib/noxus-worker-rotation/pool.env'));
        expect(entries.length).toBeGreaterThan(0);
        for (const entry of entries) expect(entry.priority).toBeLessThanOrEqual(WARNING_PRIORITY);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a rotated secret restarts the service, not the unit (NRestarts=0, same MainPID)',
      async () => {
        const before = await show(machine, ROTATION, ['MainPID', 'NRestarts', 'InvocationID']);
        const oldChild = (await serviceChild(machine, Number(before.MainPID))) as number;
        await waitFor(
          async () => ((await journal(machine, ['-u', ROTATION])).some((entry) => entry.message.includes('watching sources for changes')) ? true : undefined),
          'secretvisor to watch its sources',
          60_000,
        );
        const rotated = Date.now();
        await writeRotationSecret(machine, randomSecret('rotating-token-2'));
        const newChild = await waitFor(
          async () => {
            const child = await serviceChild(machine, Number(before.MainPID));
            if (child === undefined || child === oldChild) return undefined;
            return (await environOf(machine, child)).get('ROTATING_TOKEN') === rotationValue ? child : undefined;
          },
          'the service restarted with the rotated secret (before the periodic check, 1m)',
          45_000,
          async () => (await journal(machine, ['-u', ROTATION])).map((entry) => entry.message).join('\n'),
        );
        expect(await aliveIn(machine, oldChild)).toBe(false);
        expect(await show(machine, ROTATION, ['MainPID', 'NRestarts', 'InvocationID', 'ActiveState'])).toEqual({ ...before, ActiveState: 'active' });
        expect(newChild).not.toBe(oldChild);
        timings.push(`rotation applied ${((Date.now() - rotated) / 1000).toFixed(1)} s`);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'systemctl status shows STATUS=: the child pid and uptime, the sources, the last rotation',
      async () => {
        const main = await mainPid(machine, ROTATION);
        const child = (await serviceChild(machine, main)) as number;
        const expected = new RegExp(`^child ${child} up (<1m|\\d+m); sources: [1-9]\\d* fresh, 0 stale, 0 failing; last rotation (<1m|\\d+m) ago$`);
        const text = await waitFor(
          async () => {
            const { StatusText: line } = await show(machine, ROTATION, ['StatusText']);
            return line !== undefined && expected.test(line) ? line : undefined;
          },
          `StatusText matching ${expected}`,
          60_000,
          async () => JSON.stringify(await show(machine, ROTATION, ['StatusText'])),
        );
        const status = await machine.run(['systemctl', 'status', '--no-pager', ROTATION]);
        expect(status.stdout).toContain(`Status: "${text}"`);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'systemctl reload delivers one SIGHUP to the service; systemctl stop then ends in Result=success',
      async () => {
        const unit = 'secretvisor-backend.service';
        const { InvocationID: invocation, MainPID: main } = await show(machine, unit, ['InvocationID', 'MainPID']);
        const child = (await serviceChild(machine, Number(main))) as number;
        const lines = async (text: string) => (await journal(machine, [`_SYSTEMD_INVOCATION_ID=${invocation}`])).filter((entry) => entry.message === text);
        await machine.ok(['systemctl', 'reload', unit]);
        await waitFor(async () => ((await lines('backend reloading')).length > 0 ? true : undefined), 'the backend to log its SIGHUP', 30_000);
        await machine.ok(['systemctl', 'stop', unit], { timeoutMs: 60_000 });
        expect(await show(machine, unit, ['ActiveState', 'Result', 'ExecMainStatus'])).toEqual({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
        expect(await aliveIn(machine, child)).toBe(false);
        // The service has ended, so all it wrote is in: exactly one SIGHUP reached it.
        await waitFor(async () => ((await lines('backend stopping')).length > 0 ? true : undefined), 'the backend to log its stop', 30_000);
        expect(await lines('backend reloading')).toHaveLength(1);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'systemctl kill -s SIGKILL on secretvisor leaves no process of that run behind',
      async () => {
        const unit = 'secretvisor-worker@research.service';
        const main = await mainPid(machine, unit);
        const child = (await serviceChild(machine, main)) as number;
        const killed = Date.now();
        await machine.ok(['systemctl', 'kill', '--kill-whom=main', '-s', 'SIGKILL', unit]);
        await waitFor(async () => ((await aliveIn(machine, main)) || (await aliveIn(machine, child)) ? undefined : true), 'secretvisor and the service it ran to be gone', 60_000);
        timings.push(`SIGKILL to no process ${((Date.now() - killed) / 1000).toFixed(1)} s`);
        // Restart=on-failure brings the unit back with a fresh secretvisor and service.
        const back = await waitFor(
          async () => {
            const state = await show(machine, unit, ['ActiveState', 'MainPID', 'NRestarts']);
            return state.ActiveState === 'active' && Number(state.MainPID) !== main ? state : undefined;
          },
          'the unit to be restarted',
          60_000,
        );
        expect(back.NRestarts).toBe('1');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'NotifyAccess=: as the unit user only "all" works; as root with an empty CapabilityBoundingSet= "main" fails too',
      async () => {
        const variants: Record<string, string> = {
          'secretvisor-frontend.service': 'NotifyAccess=main\n',
          'secretvisor-backend.service': 'NotifyAccess=main\nDynamicUser=no\nUser=\n',
        };
        for (const [unit, settings] of Object.entries(variants)) {
          await machine.ok(['mkdir', '-p', `/run/systemd/system/${unit}.d`]);
          await writeInside(machine, `/run/systemd/system/${unit}.d/50-notify-test.conf`, `[Service]\n${settings}TimeoutStartSec=15s\nRestart=no\n`, '0644');
        }
        await machine.ok(['systemctl', 'daemon-reload']);
        const results = await Promise.all(Object.keys(variants).map((unit) => machine.run(['systemctl', 'restart', unit], { timeoutMs: 90_000 })));
        for (const [index, unit] of Object.keys(variants).entries()) {
          expect(results[index]?.code, `${unit} started with NotifyAccess=main`).not.toBe(0);
          expect(await show(machine, unit, ['Result'])).toEqual({ Result: 'timeout' });
        }
        const systemd = await machine.ok(['journalctl', '--no-pager', '-o', 'cat', '_PID=1']);
        expect(systemd).toMatch(/secretvisor-frontend\.service: Got notification message from PID \d+, but reception only permitted for main PID \d+/);
        expect(systemd).toMatch(/secretvisor-backend\.service: Got notification message from PID \d+, but reception only permitted for main PID \d+/);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'WatchdogSec=: pings keep the unit up; a frozen secretvisor misses them, systemd logs "Watchdog timeout" and restarts the unit',
      async () => {
        await machine.ok(['sh', '-c', `printf '[Service]\\nWatchdogSec=3s\\nTimeoutAbortSec=5s\\n' > /etc/systemd/system/${ROTATION}.d/60-watchdog.conf`]);
        await machine.ok(['systemctl', 'daemon-reload']);
        await machine.ok(['systemctl', 'restart', ROTATION], { timeoutMs: 120_000 });
        const before = await show(machine, ROTATION, ['MainPID', 'NRestarts', 'WatchdogUSec']);
        expect(before.WatchdogUSec).toBe('3s');
        // Four intervals of pings: still the same process, never restarted.
        const firstPing = await waitFor(
          async () => {
            const at = (await show(machine, ROTATION, ['WatchdogTimestampMonotonic'])).WatchdogTimestampMonotonic;
            return at !== undefined && at !== '0' ? at : undefined;
          },
          'a first WATCHDOG=1',
          30_000,
        );
        await waitFor(async () => ((await show(machine, ROTATION, ['WatchdogTimestampMonotonic'])).WatchdogTimestampMonotonic !== firstPing ? true : undefined), 'a second WATCHDOG=1', 30_000);
        await new Promise((resolve) => setTimeout(resolve, 12_000));
        expect(await show(machine, ROTATION, ['MainPID', 'NRestarts', 'ActiveState'])).toEqual({ MainPID: before.MainPID, NRestarts: before.NRestarts, ActiveState: 'active' });

        await machine.ok(['kill', '-STOP', before.MainPID as string]);
        await waitFor(
          async () => {
            const now = await show(machine, ROTATION, ['NRestarts', 'MainPID', 'ActiveState']);
            return Number(now.NRestarts) > Number(before.NRestarts) && now.ActiveState === 'active' && now.MainPID !== before.MainPID ? true : undefined;
          },
          'systemd to restart the unit after the missed watchdog',
          90_000,
          async () =>
            (await journal(machine, ['-u', ROTATION]))
              .slice(-20)
              .map((entry) => entry.message)
              .join('\n'),
        );
        const messages = (await journal(machine, ['-u', ROTATION])).map((entry) => entry.message);
        expect(messages.some((message) => message.includes('Watchdog timeout'))).toBe(true);
        await machine.ok(['rm', `/etc/systemd/system/${ROTATION}.d/60-watchdog.conf`]);
        await machine.ok(['systemctl', 'daemon-reload']);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'no secret value reached the journal',
      async () => {
        expectNoLeak((await journal(machine, [])).map((entry) => entry.message).join('\n'), 'the journal');
      },
      TEST_TIMEOUT_MS,
    );
  },
);

let rotationValue = '';

/** Writes the rotation pool's secret file in its unit's state folder, as the unit's user, replacing it at once. */
async function writeRotationSecret(machine: Machine, value: string): Promise<void> {
  rotationValue = value;
  const owner = (await machine.ok(['stat', '-c', '%u:%g', ROTATION_DIR])).trim();
  await machine.ok(['sh', '-c', 'umask 077 && cat > "$1/.pool.env.tmp" && chown "$2" "$1/.pool.env.tmp" && mv -f "$1/.pool.env.tmp" "$1/pool.env"', 'sh', ROTATION_DIR, owner], {
    input: `ROTATING_TOKEN=${value}\n`,
  });
}

/** The installed config plus a file output for every service and the rotation pool, with its unit's state folder. */
async function addFileOutputAndRotationPool(machine: Machine): Promise<void> {
  const doc = parseDocument(await machine.ok(['cat', '/etc/noxus/secretvisor.yaml']));
  // Through the link DynamicUser= makes (/var/lib/NAME -> private/NAME), as an operator would write the path;
  // the default refresh (1m) is past the rotation's wait, so only a watch that hears the change passes.
  doc.setIn(['sources', 'pool-rotation'], { type: 'dotenv', path: '/var/lib/noxus-worker-rotation/pool.env', required: ['ROTATING_TOKEN'] });
  doc.setIn(['scopes', 'pools', 'worker', 'rotation'], ['pool-rotation']);
  doc.set('files', [{ path: 'auth-signing-key', template: '{{secret.AUTH_SIGNING_KEY}}', mode: '0400', env: 'AUTH_SIGNING_KEY_FILE' }]);
  await writeInside(machine, '/etc/noxus/secretvisor.yaml', doc.toString(), '0644');
  await machine.ok(['mkdir', '-p', `/etc/systemd/system/${ROTATION}.d`]);
  await writeInside(machine, `/etc/systemd/system/${ROTATION}.d/50-state.conf`, '[Service]\nStateDirectory=noxus-worker-rotation\nStateDirectoryMode=0700\n', '0644');
  await machine.ok(['systemctl', 'daemon-reload']);
}
