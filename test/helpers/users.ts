import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A throw-away local user that plays another tenant of the host (root only). */
export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Removes the user and its group; safe to call twice. */
  remove(): void;
}

/** Whether this process may create users and change owners (CI runs as root). */
export const IS_ROOT = process.geteuid?.() === 0;

/** Creates a user with its own group and no home with `useradd`; pair with `remove()` in clean-up. */
export function createTestUser(label = 'attacker'): TestUser {
  const name = `sv-${label}-${randomBytes(3).toString('hex')}`.slice(0, 31);
  execFileSync('useradd', ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', name], { stdio: 'ignore' });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  let removed = false;
  return {
    name,
    uid,
    gid,
    remove() {
      if (removed) return;
      removed = true;
      execFileSync('userdel', [name], { stdio: 'ignore' });
    },
  };
}
