import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomSecret } from '../../helpers/secrets.js';
import type { BaoServer } from './bao-server.js';
import { freePort } from './process-tools.js';

/** The newest Debian PostgreSQL server's bin folder (`/usr/lib/postgresql/<n>/bin`), or undefined. */
export const POSTGRES_BIN = findPostgresBin();

/** What `describeReal` needs for a suite with PostgreSQL. */
export const POSTGRES_NEEDS = { initdb: POSTGRES_BIN === undefined ? undefined : join(POSTGRES_BIN, 'initdb') };

function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')) && existsSync(join(root, name, 'bin', 'psql')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user Debian's package makes. */
function clusterOwner(): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? 0 };
  const line = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim();
  const [, , user, group] = line.split(':');
  return { uid: Number(user), gid: Number(group) };
}

/** A throwaway PostgreSQL cluster on a random loopback port: a superuser with a password, reached by TCP (OpenBao) and its own socket (the test). */
export class Postgres {
  readonly dir: string;
  readonly port: number;
  readonly superuser = 'svadmin';
  readonly password: string;
  readonly #owner: { uid: number; gid: number };

  constructor(dir: string, port: number, password: string, owner: { uid: number; gid: number }) {
    this.dir = dir;
    this.port = port;
    this.password = password;
    this.#owner = owner;
  }

  /** Runs one SQL statement as the superuser; resolves with psql's unaligned rows. */
  query(sql: string): Promise<string[]> {
    const args = ['-h', this.dir, '-p', String(this.port), '-U', this.superuser, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atc', sql];
    return new Promise((resolve, reject) => {
      execFile(join(POSTGRES_BIN as string, 'psql'), args, { env: { PATH: process.env.PATH } }, (error, stdout, stderr) => {
        if (error) reject(new Error(`psql failed: ${stderr.trim() || error.message}`));
        else resolve(stdout.split('\n').filter((line) => line !== ''));
      });
    });
  }

  /** The login roles whose names start with `prefix` (OpenBao names the roles it creates `v-<auth>-<role>-…`). */
  async roles(prefix: string): Promise<string[]> {
    return this.query(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, '${prefix.replace(/'/g, "''")}') ORDER BY rolname`);
  }

  /** Whether `user` can log in by TCP with `password`, as an application would. */
  canLogin(user: string, password: string): Promise<boolean> {
    const args = ['-h', '127.0.0.1', '-p', String(this.port), '-U', user, '-d', 'postgres', '-w', '-Atc', 'SELECT 1'];
    return new Promise((resolve) => {
      execFile(join(POSTGRES_BIN as string, 'psql'), args, { env: { PATH: process.env.PATH, PGPASSWORD: password } }, (error) => resolve(error === null));
    });
  }

  /** The connection URL template OpenBao's database engine takes. */
  get connectionUrl(): string {
    return `postgresql://{{username}}:{{password}}@127.0.0.1:${this.port}/postgres?sslmode=disable`;
  }

  /** Stops the cluster and removes its folder. */
  stop(): void {
    liveClusters.delete(this);
    try {
      execFileSync(join(POSTGRES_BIN as string, 'pg_ctl'), ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'], { ...this.#owner, stdio: 'ignore' });
    } catch {
      // Already stopped: nothing left to end.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const liveClusters = new Set<Postgres>();
process.once('exit', () => {
  for (const cluster of liveClusters) cluster.stop();
});

/** initdb and pg_ctl start a new cluster in a temp folder (about 5 s on a loaded machine). */
export async function startPostgres(): Promise<Postgres> {
  const owner = clusterOwner();
  const dir = mkdtempSync(join(tmpdir(), 'sv-pg-'));
  chownSync(dir, owner.uid, owner.gid);
  const password = randomSecret('pg-admin');
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  chownSync(passwordFile, owner.uid, owner.gid);
  const port = await freePort();
  const bin = POSTGRES_BIN as string;
  const env = { PATH: process.env.PATH, LANG: 'C', HOME: dir };
  const run = (tool: string, args: string[]) => execFileSync(join(bin, tool), args, { ...owner, env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run('initdb', ['-D', join(dir, 'data'), '-U', 'svadmin', `--pwfile=${passwordFile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync']);
  const cluster = new Postgres(dir, port, password, owner);
  liveClusters.add(cluster);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  run('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  return cluster;
}

/** Enables OpenBao's database engine at `database/` and connects it to `pg` as `database/config/pg`, open to every role. */
export async function enableDatabaseEngine(bao: BaoServer, pg: Postgres): Promise<void> {
  await bao.bao(['secrets', 'enable', 'database']);
  await bao.bao([
    'write',
    'database/config/pg',
    'plugin_name=postgresql-database-plugin',
    `connection_url=${pg.connectionUrl}`,
    `username=${pg.superuser}`,
    `password=${pg.password}`,
    'allowed_roles=*',
    'verify_connection=true',
  ]);
}
