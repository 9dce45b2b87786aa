import { findConfig } from '../config/find-config.js';
import { ExitCode } from '../errors.js';
import type { CommandContext } from './context.js';
import { generateKeys } from '../generate/generate-keys.js';
import { resolveLayers, sourcesOf } from '../scope/resolve-layers.js';

/**
 * `secretvisor generate`: creates the missing `generate:` keys of every
 * source of the config (with --service, of the sources that service reads)
 * without starting anything, and prints per source which keys it created —
 * names only. Nothing to create is success too.
 */
export async function generateCommand(context: CommandContext<'generate'>): Promise<number> {
  const config = await findConfig({ file: context.configFile, cwd: context.cwd, env: context.env });
  const names = context.identity.service === undefined ? [...config.sources.keys()] : sourcesOf(resolveLayers(config.scopes, context.identity));
  const results = await generateKeys(config, names, { log: context.log, clock: context.clock });
  if (results.length === 0) {
    context.stdout.write(`nothing to generate: no source ${context.identity.service === undefined ? 'of the config' : `of service ${context.identity.service}`} has generate:\n`);
    return ExitCode.ok;
  }
  for (const result of results) {
    const present = result.present.length === 0 ? '' : `${result.created.length === 0 ? '' : '; '}present already: ${result.present.join(', ')}`;
    const created = result.created.length === 0 ? '' : `created ${result.created.join(', ')}`;
    context.stdout.write(`source ${result.source} (${result.path}): ${created}${present}\n`);
  }
  const count = results.reduce((sum, result) => sum + result.created.length, 0);
  context.stdout.write(count === 0 ? 'nothing to generate: every key is present\n' : `generated ${count} key${count === 1 ? '' : 's'}\n`);
  return ExitCode.ok;
}
