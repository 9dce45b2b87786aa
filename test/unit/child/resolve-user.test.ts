import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { getChildUser, type UserSetting } from '../../../src/child/resolve-user.js';
import { tempDir } from '../../helpers/tmp.js';

const PASSWD = `# a comment
root:x:0:0:root:/root:/bin/bash

app:x:1000:1001:App:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
app:x:1001:
web:x:2000:app
nogroup:x:65534:
`;

function files(): { passwdFile: string; groupFile: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'passwd'), PASSWD);
  writeFileSync(join(dir, 'group'), GROUP);
  return { passwdFile: join(dir, 'passwd'), groupFile: join(dir, 'group') };
}

const setting = (user?: string | number, group?: string | number): UserSetting => ({ user, group });

describe('getChildUser', () => {
  it.each<[string, UserSetting, { uid: number; gid: number } | undefined]>([
    ['nothing set', setting(), undefined],
    ['a user name: its uid and primary group', setting('app'), { uid: 1000, gid: 1001 }],
    ['a user and a group name', setting('app', 'web'), { uid: 1000, gid: 2000 }],
    ['a numeric user in /etc/passwd: its primary group', setting(65534), { uid: 65534, gid: 65534 }],
    ['a numeric user written as a string', setting('1000'), { uid: 1000, gid: 1001 }],
    ['numeric ids not in the files', setting(4242, 4343), { uid: 4242, gid: 4343 }],
    ['a group alone: our own uid', setting(undefined, 'web'), { uid: 0, gid: 2000 }],
    ['root itself: no switch', setting('root'), undefined],
  ])('as root, resolves %s', async (_what, wanted, expected) => {
    expect(await getChildUser(wanted, { ...files(), euid: 0, egid: 0 })).toEqual(expected);
  });

  it.each<[string, UserSetting, string]>([
    ['an unknown user name', setting('ghost'), 'user: ghost does not exist in'],
    ['an unknown group name', setting('app', 'ghosts'), 'group: ghosts does not exist in'],
    ['a numeric user with no entry and no group', setting(4242), 'set group: as well'],
  ])('as root, refuses %s (exit 78)', async (_what, wanted, message) => {
    const error = await getChildUser(wanted, { ...files(), euid: 0, egid: 0 }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(78);
    expect(`${(error as ConfigError).message} ${(error as ConfigError).hint}`).toContain(message);
  });

  it('needs no switch, and no root, when the user is already secretvisor’s own', async () => {
    expect(await getChildUser(setting('app'), { ...files(), euid: 1000, egid: 1001 })).toBeUndefined();
  });

  it('refuses a switch when secretvisor is not root (exit 78), saying how to fix it', async () => {
    const error = await getChildUser(setting('nobody'), { ...files(), euid: 1000, egid: 1001 }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('secretvisor runs as uid 1000, not root');
    expect((error as ConfigError).hint).toContain('start secretvisor as root');
  });

  it('takes numeric ids when /etc/passwd is missing, and refuses names', async () => {
    const missing = { passwdFile: join(tempDir(), 'passwd'), groupFile: join(tempDir(), 'group'), euid: 0, egid: 0 };

    expect(await getChildUser(setting(1000, 1000), missing)).toEqual({ uid: 1000, gid: 1000 });
    await expect(getChildUser(setting('app'), missing)).rejects.toThrow('user: app does not exist');
  });
});
