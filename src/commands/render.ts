import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { findConfig } from '../config/find-config.js';
import { ConfigError, UsageError } from '../errors.js';
import { writeFileOutputs } from '../render/write-files.js';
import { stringOption, type CommandContext } from '../cli/context.js';
import { resolveOnce } from './resolve-once.js';

/**
 * `secretvisor render --out DIR`: writes the file outputs once, with the same
 * modes and checks as `run`, and exits — for init containers and services
 * that manage their own restarts.
 */
export async function renderCommand(context: CommandContext): Promise<number> {
  const out = stringOption(context, 'out');
  if (out === undefined) throw new UsageError('render: --out DIR is required', { hint: 'name the folder the files go to' });
  const dir = resolve(context.cwd, out);
  const config = await findConfig({ file: context.configFile, cwd: context.cwd, env: context.env });
  if (config.files.length === 0) {
    throw new ConfigError('render: the config has no files: entries to write', { hint: 'add a files: section, or use `secretvisor env`' });
  }
  const { plan } = await resolveOnce({ config, identity: context.identity, env: context.env, parentEnv: {}, log: context.log, runtimeDir: dir });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (((await stat(dir)).mode & 0o077) !== 0) {
    context.log.warn({ path: dir }, `${dir} is open to group or others; the files themselves are ${plan.files.map((f) => `0${f.mode.toString(8)}`).join(', ')}`);
  }
  await writeFileOutputs(dir, plan.files);
  context.log.info({ out: dir, files: plan.files.map((file) => file.path) }, `wrote ${plan.files.length} file(s) to ${dir}`);
  return 0;
}
