import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, runCli, startCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import { startVaultServer, type VaultServer } from '../servers/vault-server.js';

// startup.splay through the real CLI: run waits a random share of it before
// the first request to a remote source (the request log proves none came
// earlier), never for file sources, and a stop during the wait ends at once.

let vault: VaultServer;
beforeAll(async () => {
  vault = await startVaultServer();
});
afterAll(async () => {
  await vault.stop();
});

function vaultProject(splay: string, path: string): string {
  const dir = tempDir('sv-splay-');
  writeFileSync(join(dir, 'secretvisor.yaml'), `version: 1\nsources:\n  core: { type: vault, address: "${vault.address}", path: secret/data/${path} }\nstartup: { splay: ${splay}, timeout: 10s }\n`);
  return dir;
}

describe('startup.splay', () => {
  it('waits the logged delay, at most the splay, before the first request; then the child gets its secret', async () => {
    const value = randomSecret('splayed');
    vault.secrets.putKv2('secret', 'splay-1', { VALUE: value });
    const token = vault.tokens.create({ id: randomSecret('token') });
    const dir = vaultProject('2s', 'splay-1');
    const launched = Date.now();
    const result = await runCli(['run', '--once', '--', '/bin/sh', '-c', `printf '%s' "$VALUE" > '${join(dir, 'seen')}'`], {
      cwd: dir,
      env: baseEnv({ VAULT_TOKEN: token, SECRETVISOR_LOG_FORMAT: 'json' }),
    });
    expect(result.code, result.stderr).toBe(0);
    const match = /waiting (\d+) ms \(startup\.splay\) before the first read of core/.exec(logText(result.stderr));
    expect(match, result.stderr).not.toBeNull();
    const delayMs = Number(match?.[1]);
    expect(delayMs).toBeLessThanOrEqual(2_000);
    const first = vault.requestLog.entries.find((entry) => entry.path.includes('splay-1'));
    expect(first?.at ?? 0).toBeGreaterThanOrEqual(launched + delayMs);
    expect(readFileSync(join(dir, 'seen'), 'utf8')).toBe(value);
  });

  it('never waits for file sources', async () => {
    const dir = makeProject({ 'secretvisor.yaml': 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nstartup: { splay: 596h }\n', 'app.env': `A=${randomSecret('a')}\n` });
    const result = await runCli(['run', '--once', '--', '/bin/true'], { cwd: dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('startup.splay');
  });

  it('a SIGTERM during the wait ends secretvisor at once, with no request sent', async () => {
    const token = vault.tokens.create({ id: randomSecret('token') });
    const dir = vaultProject('596h', 'splay-never');
    const cli = startCli(['run', '--', '/bin/true'], { cwd: dir, env: baseEnv({ VAULT_TOKEN: token, SECRETVISOR_LOG_FORMAT: 'json' }) });
    await cli.waitForStderr('startup.splay');
    const stopped = Date.now();
    cli.kill('SIGTERM');
    const result = await cli.exited();
    expect(result.code, result.stderr).toBe(143);
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(vault.requestLog.entries.some((entry) => entry.path.includes('splay-never'))).toBe(false);
  });

  it('a bad splay is refused with its path', async () => {
    const dir = makeProject({ 'secretvisor.yaml': 'version: 1\nsources: {}\nstartup: { splay: 3 minutes }\n' });
    const result = await runCli(['check'], { cwd: dir });
    expect(result.code).toBe(78);
    expect(logText(result.stderr)).toContain('startup.splay: expected a duration such as 250ms, 10s, 5m or 1h');
  });
});
