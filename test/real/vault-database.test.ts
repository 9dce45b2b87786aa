import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { randomSecret, trackSecret } from '../helpers/secrets.js';
import { writeSecretFile } from '../helpers/tmp.js';
import { describeReal } from './tools/require-tool.js';
import { BAO_NEEDS, startDevServer, type BaoServer } from './openbao/bao-server.js';
import { POSTGRES_NEEDS, enableDatabaseEngine, startPostgres, type Postgres } from './openbao/postgres.js';
import { logEntries } from '../helpers/log-capture.js';
import { cliEnv, startRun, startValues, starts, stopRun, waitForStarts, waitUntil, workspace } from './openbao/workspace.js';

// Dynamic PostgreSQL credentials from OpenBao's database secrets engine, and
// tokens with short TTLs, against a real server and a throwaway PostgreSQL
// cluster: the role exists in pg_roles while leased, the lease is renewed,
// re-issued before its max TTL with one restart, and revoked on exit.

// A real server on a shared, loaded machine: generous limits; every wait is on an event.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const POLICY = [
  'path "database/creds/*" { capabilities = ["read"] }',
  'path "secret/data/*" { capabilities = ["read"] }',
  'path "sys/leases/renew" { capabilities = ["update"] }',
  'path "sys/leases/revoke" { capabilities = ["update"] }',
].join('\n');

describeReal('OpenBao database secrets and short-lived tokens', { tools: { ...BAO_NEEDS.tools, ...POSTGRES_NEEDS }, install: `${BAO_NEEDS.install}; apt-get install postgresql` }, () => {
  let bao: BaoServer;
  let pg: Postgres;
  let token: string;

  beforeAll(async () => {
    [bao, pg] = await Promise.all([startDevServer(), startPostgres()]);
    await enableDatabaseEngine(bao, pg);
    await bao.bao(['policy', 'write', 'app', '-'], { input: `${POLICY}\n` });
    await bao.bao(['auth', 'enable', 'approle']);
    token = trackSecret((await bao.bao(['token', 'create', '-policy=app', '-ttl=30m', '-field=token'])).trim());
  }, 120_000);

  afterAll(async () => {
    await bao?.destroy();
    pg?.stop();
  });

  let counter = 0;
  /** A database role of OpenBao that creates a PostgreSQL login role with a lease of `ttl`, capped at `maxTtl`. */
  async function addRole(ttl: string, maxTtl: string): Promise<string> {
    counter += 1;
    const role = `app${counter}`;
    const creation = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;
    await bao.bao(['write', `database/roles/${role}`, 'db_name=pg', `creation_statements=${creation}`, `default_ttl=${ttl}`, `max_ttl=${maxTtl}`]);
    return role;
  }

  const hasRole = async (name: string) => (await pg.query(`SELECT count(*) FROM pg_roles WHERE rolname = '${name}'`))[0] === '1';
  const renewals = () => bao.audit.count({ path: 'sys/leases/renew', failed: false });

  it('renews the lease without a restart, re-issues before the max TTL with one restart, and revokeOnExit drops the role', async () => {
    const role = await addRole('6s', '18s');
    const ws = workspace(`  db:\n    type: vault\n    address: ${bao.address}\n    path: database/creds/${role}\n    revokeOnExit: true`);
    const cli = startRun(ws, cliEnv(ws, ['username', 'password'], { VAULT_TOKEN: token }));
    await waitForStarts(cli, ws, 1);
    const [first] = startValues(ws) as { username: string; password: string }[];
    expect(await hasRole(first?.username as string)).toBe(true);
    expect(await pg.canLogin(first?.username as string, first?.password as string)).toBe(true);

    const before = renewals();
    await waitUntil(() => renewals() >= before + 2, 'two renewals of the lease', 45_000, cli);
    expect(starts(ws)).toBe(1);
    expect(bao.audit.count({ path: `database/creds/${role}` })).toBe(1);

    await waitForStarts(cli, ws, 2, 'the restart with re-issued credentials', 60_000);
    const issuedAt = bao.audit
      .responses()
      .filter((entry) => entry.request.path === `database/creds/${role}`)
      .map((entry) => Date.parse(entry.time));
    const [, second] = startValues(ws) as { username: string; password: string }[];
    expect(second?.username).not.toBe(first?.username);
    expect(await pg.canLogin(second?.username as string, second?.password as string)).toBe(true);
    // secretvisor decided to re-issue before the first lease reached its max TTL (18 s after OpenBao issued it, one
    // machine's clock): on its own schedule, not after a renewal failed. The new issue itself may lag under load.
    expect(issuedAt).toHaveLength(2);
    const decided = logEntries(cli.stderr).find((entry) => String(entry.msg).startsWith('re-issuing dynamic credentials'));
    expect(decided?.msg).toBe('re-issuing dynamic credentials: the lease reached its max TTL');
    expect(Date.parse(String(decided?.time)) - (issuedAt[0] as number)).toBeLessThan(18_000);
    await waitUntil(async () => !(await hasRole(first?.username as string)), 'OpenBao to drop the first role at its max TTL', 45_000, cli);
    const renewedSecond = renewals();
    await waitUntil(() => renewals() > renewedSecond, 'a renewal of the second lease', 45_000, cli);
    expect(starts(ws)).toBe(2);
    expect(bao.audit.count({ path: `database/creds/${role}` })).toBe(2);

    expect(await stopRun(cli)).toBe(0);
    expect(await hasRole(second?.username as string)).toBe(false);
    expect(await pg.roles(`v-token-${role}-`)).toEqual([]);
  });

  it('check issues real credentials and revokes them before it exits', async () => {
    const role = await addRole('10m', '1h');
    const ws = workspace(`  db:\n    type: vault\n    address: ${bao.address}\n    path: database/creds/${role}`);
    const result = await runCli(['check', '-c', ws.config], { cwd: ws.dir, env: cliEnv(ws, [], { VAULT_TOKEN: token }) });
    expect(result.code, result.stderr).toBe(0);
    expect(bao.audit.count({ path: `database/creds/${role}` })).toBe(1);
    expect(bao.audit.count({ path: 'sys/leases/revoke', failed: false })).toBeGreaterThanOrEqual(1);
    expect(await pg.roles(`v-token-${role}-`)).toEqual([]);
  });

  describe('tokens with short TTLs', () => {
    /** An AppRole whose tokens live `ttl`, renewable up to `maxTtl`; its role-id and secret-id written into the workspace. */
    async function appRole(dir: string, ttl: string, maxTtl: string): Promise<string> {
      counter += 1;
      const name = `short${counter}`;
      await bao.bao(['write', `auth/approle/role/${name}`, 'token_policies=app', `token_ttl=${ttl}`, `token_max_ttl=${maxTtl}`]);
      writeSecretFile(join(dir, 'role-id'), trackSecret((await bao.bao(['read', '-field=role_id', `auth/approle/role/${name}/role-id`])).trim()));
      writeSecretFile(join(dir, 'secret-id'), trackSecret((await bao.bao(['write', '-f', '-field=secret_id', `auth/approle/role/${name}/secret-id`])).trim()));
      return name;
    }
    const auth = '    auth:\n      method: approle\n      roleIdFile: role-id\n      secretIdFile: secret-id';
    const logins = () => bao.audit.count({ path: 'auth/approle/login', failed: false });
    const tokenRenewals = () => bao.audit.count({ path: 'auth/token/renew-self', failed: false });

    it('KV: renews the token, logs in again near its max TTL, and never restarts the child', async () => {
      counter += 1;
      const path = `app/short${counter}`;
      const value = randomSecret('value');
      await bao.bao(['kv', 'put', `secret/${path}`, `VALUE=${value}`]);
      const ws = workspace(`  core:\n    type: vault\n    address: ${bao.address}\n    path: secret/data/${path}\n    refresh: 500ms\n${auth}`);
      await appRole(ws.dir, '3s', '7s');
      const [loginsBefore, renewalsBefore] = [logins(), tokenRenewals()];
      const cli = startRun(ws, cliEnv(ws, ['VALUE']));
      await waitForStarts(cli, ws, 1);
      await waitUntil(() => logins() >= loginsBefore + 3, 'two logins after the first', 60_000, cli);
      expect(tokenRenewals()).toBeGreaterThan(renewalsBefore);
      const reads = bao.audit.count({ path: `secret/data/${path}`, operation: 'read' });
      await waitUntil(() => bao.audit.count({ path: `secret/data/${path}`, operation: 'read' }) >= reads + 3, 'reads with the newest token', 45_000, cli);
      expect(cli.stderr).not.toContain('keeping its last good secrets');
      expect(startValues(ws)).toEqual([{ VALUE: value }]);
      expect(await stopRun(cli)).toBe(0);
    });

    it('dynamic credentials issued under a token die with it: a new login re-issues them (one restart) before OpenBao drops the old role', async () => {
      const role = await addRole('10m', '1h');
      const ws = workspace(`  db:\n    type: vault\n    address: ${bao.address}\n    path: database/creds/${role}\n    revokeOnExit: true\n${auth}`);
      await appRole(ws.dir, '4s', '12s');
      const cli = startRun(ws, cliEnv(ws, ['username', 'password']));
      await waitForStarts(cli, ws, 1);
      const [first] = startValues(ws) as { username: string; password: string }[];
      expect(await hasRole(first?.username as string)).toBe(true);
      await waitForStarts(cli, ws, 2, 'the restart with credentials issued under the new token', 60_000);
      const [, second] = startValues(ws) as { username: string; password: string }[];
      expect(second?.username).not.toBe(first?.username);
      // The lease itself had ten minutes to go: only the end of the token that was issued it ends it.
      await waitUntil(async () => !(await hasRole(first?.username as string)), 'OpenBao to revoke the first lease with its token', 45_000, cli);
      expect(await pg.canLogin(second?.username as string, second?.password as string)).toBe(true);
      expect(await stopRun(cli)).toBe(0);
    });
  });
});
