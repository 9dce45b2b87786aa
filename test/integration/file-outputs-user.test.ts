import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { expectNoLeak, randomSecret } from '../helpers/secrets.js';
import { fileWorkspace, recordsOf, runtimeFolders, startRun, waitForRecords, workspaceEnv, writeDotenv, type FileWorkspace } from './file-outputs-workspace.js';

// CI runs as root; elsewhere these tests cannot switch users and are skipped.
const IS_ROOT = process.geteuid?.() === 0;
const NOBODY = 65534;
const NOBODY_GROUP = IS_ROOT ? groupNameOf(NOBODY) : 'nogroup';

function groupNameOf(gid: number): string {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((entry) => entry.split(':')[2] === String(gid));
  return line?.split(':')[0] ?? String(gid);
}

const config = (user: string): string => `sources:
  keys:
    type: dotenv
    path: keys.env
    asEnv: false
files:
  - path: keys/api-keys
    template: "{{secret.KEY_CURRENT}}\\n{{secret.KEY_NEXT}}\\n"
    env: KEYS_PATH
${user}`;

/** A workspace the child's user can reach (0711 folders) and record into; the secrets stay root's, mode 0600. */
function userWorkspace(user: string): { ws: FileWorkspace; keys: Record<string, string> } {
  const ws = fileWorkspace(config(user));
  const keys = { KEY_CURRENT: randomSecret('key-current'), KEY_NEXT: randomSecret('key-next') };
  writeDotenv(join(ws.dir, 'keys.env'), keys);
  chmodSync(ws.dir, 0o711);
  chmodSync(ws.base, 0o711);
  chownSync(ws.record, NOBODY, NOBODY);
  return { ws, keys };
}

const owner = (path: string): string => {
  const stats = statSync(path);
  return `${stats.uid}:${stats.gid} ${(stats.mode & 0o777).toString(8)}`;
};

describe.skipIf(!IS_ROOT)(IS_ROOT ? 'user and group' : 'user and group — skipped: switching users needs root (CI runs as root)', () => {
  it.each([
    ['names', `user: nobody\ngroup: ${NOBODY_GROUP}`],
    ['numeric ids', `user: ${NOBODY}\ngroup: ${NOBODY}`],
    ['a user name alone (its primary group)', 'user: nobody'],
  ])('runs the child as that user and group, who own the runtime folder and its files (%s)', async (_how, user) => {
    const { ws, keys } = userWorkspace(user);
    const cli = startRun(ws, { env: workspaceEnv(ws, { FILE_VAR: 'KEYS_PATH' }) });
    const [start] = await waitForRecords(cli, ws, 'start', 1);
    const file = start?.pointer as string;
    const folder = dirname(dirname(file));

    expect({ uid: start?.uid, gid: start?.gid }).toEqual({ uid: NOBODY, gid: NOBODY });
    expect(start?.content).toBe(`${keys.KEY_CURRENT}\n${keys.KEY_NEXT}\n`);
    expect([folder, join(folder, 'keys'), file].map(owner)).toEqual([`${NOBODY}:${NOBODY} 700`, `${NOBODY}:${NOBODY} 700`, `${NOBODY}:${NOBODY} 400`]);

    // A rotation rewrites the file for the same owner and signals the child, which can read it.
    keys.KEY_NEXT = randomSecret('key-new');
    writeDotenv(join(ws.dir, 'keys.env'), keys);
    const [hup] = await waitForRecords(cli, ws, 'SIGHUP', 1);
    expect(hup?.content).toBe(`${keys.KEY_CURRENT}\n${keys.KEY_NEXT}\n`);
    expect(owner(file)).toBe(`${NOBODY}:${NOBODY} 400`);

    cli.kill('SIGTERM');
    expect((await cli.exited()).code).toBe(0);
    expect(runtimeFolders(ws)).toEqual([]);
  });

  it('sweeps the folder a SIGKILLed run made for the child’s user', async () => {
    const { ws } = userWorkspace('user: nobody');
    const killed = startRun(ws, { env: workspaceEnv(ws) });
    const [start] = await waitForRecords(killed, ws, 'start', 1);
    await killed.waitForStdout('ready');
    killed.kill('SIGKILL');
    process.kill(-(start?.pid as number), 'SIGKILL');
    await killed.exited();
    expect(runtimeFolders(ws)).toHaveLength(1);

    const next = startRun(ws, { env: workspaceEnv(ws) });
    await next.waitForStdout('ready');

    expect(next.stderr).toContain('removed 1 runtime folder(s)');
    expect(runtimeFolders(ws)).toHaveLength(1);
    next.kill('SIGTERM');
    await next.exited();
    expect(runtimeFolders(ws)).toEqual([]);
  });

  it('refuses a user that does not exist (exit 78), naming it', async () => {
    const { ws } = userWorkspace('user: no-such-user-here');
    const result = await startRun(ws).exited();

    expect(result.code).toBe(78);
    expect(result.stderr).toContain('user: no-such-user-here does not exist in /etc/passwd');
    expect(recordsOf(ws, 'start')).toEqual([]);
  });

  it('refuses a runtime base the child’s user cannot reach (exit 78), naming the folder and the fix', async () => {
    const { ws } = userWorkspace('user: nobody');
    chmodSync(ws.base, 0o700);
    const result = await startRun(ws).exited();

    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`${ws.base} (mode 0700, owner 0:0) does not let it through`);
    expect(recordsOf(ws, 'start')).toEqual([]);
  });

  it('refuses to switch users when secretvisor is not root (exit 78)', async () => {
    const { ws } = userWorkspace('user: root');
    chmodSync(ws.config, 0o644);
    const child = spawn(process.execPath, [CLI, 'run', '-c', ws.config, '--', ...ws.child], {
      cwd: ws.dir,
      env: workspaceEnv(ws),
      uid: NOBODY,
      gid: NOBODY,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = await once(child, 'close');

    expect(code, stderr).toBe(78);
    expect(stderr).toContain(`secretvisor runs as uid ${NOBODY}, not root`);
    expectNoLeak(stderr);
  });

  it('render --out gives the files and the folder it makes to the user and group', async () => {
    const { ws } = userWorkspace(`user: nobody\ngroup: ${NOBODY_GROUP}`);
    const out = join(ws.dir, 'out');

    const result = await runCli(['render', '-c', ws.config, '--out', out], { cwd: ws.dir, env: workspaceEnv(ws) });

    expect(result.code, result.stderr).toBe(0);
    expect([out, join(out, 'keys'), join(out, 'keys', 'api-keys')].map(owner)).toEqual([`${NOBODY}:${NOBODY} 700`, `${NOBODY}:${NOBODY} 700`, `${NOBODY}:${NOBODY} 400`]);
  });
});
