import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import type { FileOwner } from '../render/write-files.js';
import { errnoOf } from '../lib/errno.js';

/** The top-level `user` and `group` of the config, as written (names or numeric ids). */
export interface UserSetting {
  readonly user: string | number | undefined;
  readonly group: string | number | undefined;
}

/** Options of {@link getChildUser}; the defaults are the real system's. */
export interface ChildUserOptions {
  /** secretvisor's effective uid and gid. */
  readonly euid?: number;
  readonly egid?: number;
  readonly passwdFile?: string;
  readonly groupFile?: string;
}

interface Account {
  readonly name: string;
  readonly id: number;
  /** The primary gid, for /etc/passwd entries. */
  readonly gid: number;
}

const NUMERIC_ID = /^\d+$/;

/**
 * The uid and gid the child runs as and file outputs belong to, from `user`
 * and `group` (names looked up in /etc/passwd and /etc/group, numbers taken
 * as they are); undefined when neither is set or both already match
 * secretvisor's own user. Throws ConfigError (exit 78) for an unknown name,
 * a numeric user without a `group`, or a switch that needs root.
 */
export async function getChildUser(setting: UserSetting, options: ChildUserOptions = {}): Promise<FileOwner | undefined> {
  if (setting.user === undefined && setting.group === undefined) return undefined;
  const euid = options.euid ?? process.geteuid?.() ?? 0;
  const egid = options.egid ?? process.getegid?.() ?? 0;
  const user = setting.user === undefined ? undefined : await findAccount(setting.user, options.passwdFile ?? '/etc/passwd', 'user');
  const gid = setting.group === undefined ? undefined : (await findAccount(setting.group, options.groupFile ?? '/etc/group', 'group')).id;
  const owner = { uid: user?.id ?? euid, gid: gid ?? user?.gid ?? egid };
  if (Number.isNaN(owner.gid)) {
    throw new ConfigError(`user: ${setting.user} is a numeric id with no /etc/passwd entry, so it has no primary group`, {
      hint: 'set group: as well (a name or a numeric id)',
    });
  }
  if (owner.uid === euid && owner.gid === egid) return undefined;
  if (euid !== 0) {
    throw new ConfigError(`user/group asks for the child to run as uid ${owner.uid} gid ${owner.gid}, but secretvisor runs as uid ${euid}, not root`, {
      hint: 'start secretvisor as root (it drops to that user for the child), or remove user: and group: so the child runs as secretvisor’s own user',
    });
  }
  return owner;
}

async function findAccount(wanted: string | number, file: string, kind: 'user' | 'group'): Promise<Account> {
  const text = String(wanted);
  const accounts = await readAccounts(file, kind);
  const found = accounts.find((account) => (NUMERIC_ID.test(text) ? account.id === Number(text) : account.name === text));
  if (found !== undefined) return found;
  // A bare id is valid without an entry (common in containers); a name is not.
  if (NUMERIC_ID.test(text)) return { name: text, id: Number(text), gid: Number.NaN };
  throw new ConfigError(`${kind}: ${text} does not exist in ${file}`, {
    hint: `create the ${kind} (e.g. ${kind === 'user' ? 'useradd --system' : 'groupadd --system'} ${text}), fix the name, or give a numeric id`,
  });
}

async function readAccounts(file: string, kind: 'user' | 'group'): Promise<Account[]> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return [];
    throw new ConfigError(`${kind}: cannot read ${file} (${errnoOf(error) ?? 'error'}) to look the ${kind} up`, {
      hint: 'give a numeric id instead of a name',
      cause: error,
    });
  }
  const accounts: Account[] = [];
  for (const line of content.split('\n')) {
    // name:password:id:… — /etc/passwd has the primary gid in the fourth field.
    const fields = line.split(':');
    const [name, , id, gid] = fields;
    if (name === undefined || name === '' || name.startsWith('#') || id === undefined || !NUMERIC_ID.test(id)) continue;
    accounts.push({ name, id: Number(id), gid: kind === 'user' && gid !== undefined && NUMERIC_ID.test(gid) ? Number(gid) : Number.NaN });
  }
  return accounts;
}
