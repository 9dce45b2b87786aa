import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { randomSecret } from '../helpers/secrets.js';
import { fileWorkspace, workspaceEnv, writeDotenv, type FileWorkspace } from './file-outputs-workspace.js';

const CONFIG = `sources:
  keys:
    type: dotenv
    path: keys.env
    asEnv: false
files:
  - path: keys/api-keys
    template: "{{secret.KEY_CURRENT}}\\n{{secret.KEY_NEXT}}\\n"
    env: KEYS_PATH
  - path: db-password
    template: "{{secret.DB_PASSWORD}}"
    mode: "0440"`;

function renderWorkspace(config = CONFIG): { ws: FileWorkspace; keys: Record<string, string> } {
  const ws = fileWorkspace(config);
  const keys = { KEY_CURRENT: randomSecret('key-current'), KEY_NEXT: randomSecret('key-next'), DB_PASSWORD: randomSecret('db-password') };
  writeDotenv(join(ws.dir, 'keys.env'), keys);
  return { ws, keys };
}

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

function render(ws: FileWorkspace, out: string | undefined, umask?: number): ReturnType<typeof runCli> {
  const args = ['render', '-c', ws.config, ...(out === undefined ? [] : ['--out', out])];
  if (umask === undefined) return runCli(args, { cwd: ws.dir, env: workspaceEnv(ws) });
  // The umask is inherited at spawn: set it around the spawn only.
  const previous = process.umask(umask);
  const cli = startCli(args, { cwd: ws.dir, env: workspaceEnv(ws) });
  process.umask(previous);
  return cli.exited();
}

describe('secretvisor render --out DIR', () => {
  it.each(['022', '000', '277'])('writes every file with its content and mode into a new 0700 folder (umask %s)', async (umask) => {
    const { ws, keys } = renderWorkspace();
    const out = join(ws.dir, 'out', 'secrets');

    const result = await render(ws, out, Number.parseInt(umask, 8));

    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(out, 'keys', 'api-keys'), 'utf8')).toBe(`${keys.KEY_CURRENT}\n${keys.KEY_NEXT}\n`);
    expect(readFileSync(join(out, 'db-password'), 'utf8')).toBe(keys.DB_PASSWORD);
    expect([out, join(out, 'keys'), join(out, 'keys', 'api-keys'), join(out, 'db-password')].map(mode)).toEqual(['700', '700', '400', '440']);
    expect(readdirSync(out).sort()).toEqual(['db-password', 'keys']);
    expect(readdirSync(join(out, 'keys'))).toEqual(['api-keys']);
  });

  it('replaces an existing file with the configured mode, and leaves an existing folder as it is with a warning when it is open', async () => {
    const { ws, keys } = renderWorkspace();
    const out = join(ws.dir, 'shared-volume');
    mkdirSync(out);
    chmodSync(out, 0o755);
    writeFileSync(join(out, 'db-password'), 'old content\n', { mode: 0o644 });
    chmodSync(join(out, 'db-password'), 0o644);

    const result = await render(ws, out);

    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(out, 'db-password'), 'utf8')).toBe(keys.DB_PASSWORD);
    expect(mode(join(out, 'db-password'))).toBe('440');
    expect(mode(out)).toBe('755');
    expect(result.stderr).toContain('group or others can see');
  });

  it.each([
    ['the file', 'db-password'],
    ['a folder on its path', 'keys'],
  ])('refuses a symlink at %s (exit 78) and writes nothing through it', async (_what, linked) => {
    const { ws } = renderWorkspace();
    const out = join(ws.dir, 'out');
    const elsewhere = join(ws.dir, 'elsewhere');
    mkdirSync(out, { mode: 0o700 });
    mkdirSync(elsewhere, { mode: 0o700 });
    writeFileSync(join(elsewhere, 'db-password'), 'untouched\n');
    symlinkSync(linked === 'keys' ? elsewhere : join(elsewhere, 'db-password'), join(out, linked));

    const result = await render(ws, out);

    expect(result.code).toBe(78);
    expect(result.stderr).toContain('symlink inside the output folder');
    expect(readdirSync(elsewhere)).toEqual(['db-password']);
    expect(readFileSync(join(elsewhere, 'db-password'), 'utf8')).toBe('untouched\n');
  });

  it.each(['../escape', '/tmp/escape'])('refuses the file path %s, which leaves the folder (exit 78)', async (path) => {
    const { ws } = renderWorkspace(`sources:
  keys:
    type: dotenv
    path: keys.env
files:
  - path: ${path}
    template: "{{secret.KEY_CURRENT}}"`);

    const result = await render(ws, join(ws.dir, 'out'));

    expect(result.code).toBe(78);
    expect(result.stderr).toContain('leaves the private runtime folder');
  });

  it('refuses a template naming an unknown secret (exit 78) before writing anything', async () => {
    const { ws } = renderWorkspace(`${CONFIG}
  - path: extra
    template: "{{secret.NO_SUCH_SECRET}}"`);
    const out = join(ws.dir, 'out');

    const result = await render(ws, out);

    expect(result.code).toBe(78);
    expect(result.stderr).toContain('NO_SUCH_SECRET');
    expect(() => readdirSync(out)).toThrow();
  });

  it('needs --out (exit 64)', async () => {
    const { ws } = renderWorkspace();
    const result = await render(ws, undefined);

    expect(result.code).toBe(64);
    expect(result.stderr).toContain('--out DIR is required');
  });
});
