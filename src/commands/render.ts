import { chmod, lchown, lstat, mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { findConfig } from '../config/find-config.js';
import { ConfigError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { currentUid } from '../permissions/inspect-mode.js';
import { enforcePolicy } from '../permissions/enforce-policy.js';
import { walkTrustedPath } from '../permissions/trusted-path.js';
import { getChildUser } from '../child/resolve-user.js';
import { writeFileOutputs } from '../render/write-files.js';
import type { CommandContext } from './context.js';
import { resolveOnce } from './resolve-once.js';
import { errnoOf } from '../lib/errno.js';

/**
 * `secretvisor render --out DIR`: writes the file outputs once, with the same
 * modes and checks as `run` (and owned by `user`/`group` when root), and
 * exits — for init containers and services that manage their own restarts.
 */
export async function renderCommand(context: CommandContext<'render'>): Promise<number> {
  const { out } = context.options;
  if (out === undefined) throw new UsageError('render: --out DIR is required', { hint: 'name the folder the files go to' });
  const dir = resolve(context.cwd, out);
  const config = await findConfig({ file: context.configFile, cwd: context.cwd, env: context.env });
  if (config.files.length === 0) {
    throw new ConfigError('render: the config has no files: entries to write', { hint: 'add a files: section, or use `secretvisor env`' });
  }
  const owner = await getChildUser(config);
  await validateOutDir(dir, context.log);
  const { plan } = await resolveOnce({ config, identity: context.identity, env: context.env, parentEnv: {}, log: context.log, clock: context.clock, runtimeDir: dir });
  // A folder we make is private like run's; one that exists (a shared volume) keeps its mode and owner.
  if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) {
    await chmod(dir, 0o700);
    if (owner !== undefined) await lchown(dir, owner.uid, owner.gid);
  } else {
    const mode = (await stat(dir)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const shown = `0${mode.toString(8)}`;
      context.log.warn(
        { path: dir, mode: shown },
        `${dir} is mode ${shown}: group or others can see (or replace) what is in it, though the files keep their own modes; chmod 700 ${dir} unless something else needs it`,
      );
    }
  }
  await writeFileOutputs(dir, plan.files, owner);
  context.log.info({ out: dir, files: plan.files.map((file) => file.path) }, `wrote ${plan.files.length} file(s) to ${dir}`);
  return 0;
}

// A DIR another user planted (a link to /etc, or a folder of their own) would
// have secretvisor write secrets where that user chose, or where they can
// read and swap them; the folders above DIR get the secret files' checks.
async function validateOutDir(dir: string, log: Logger): Promise<void> {
  const stats = await lstat(dir).catch((error: unknown) => {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  });
  const uid = currentUid();
  if (stats?.isSymbolicLink() === true) {
    throw new ConfigError(`render: --out ${dir} is a symlink; refusing to write secrets through it`, {
      hint: `remove the link, or give --out the real folder it should be`,
    });
  }
  if (stats !== undefined && stats.uid !== 0 && stats.uid !== uid) {
    throw new ConfigError(`render: --out ${dir} is owned by uid ${stats.uid}, not by root or uid ${uid} that secretvisor runs as; refusing to write secrets into it`, {
      hint: `chown ${uid === 0 ? 'root' : uid} '${dir}', or remove it and let render make it (0700)`,
    });
  }
  await enforcePolicy((await walkTrustedPath(dir, { includeLast: false })).findings, { policy: 'strict', log });
}
