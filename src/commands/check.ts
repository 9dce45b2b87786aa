import { join } from 'node:path';
import { findConfig } from '../config/find-config.js';
import type { Config } from '../config/config.js';
import { runtimeBase } from '../render/runtime-dir.js';
import type { Resolution } from '../render/resolve-plan.js';
import type { Identity } from '../scope/resolve-layers.js';
import type { CommandContext } from '../cli/context.js';
import { resolveOnce } from './resolve-once.js';
import { formatTable } from './format-table.js';

/**
 * `secretvisor check`: validates the config, reads every source this
 * service may see, resolves the child's plan exactly as `run` would, and
 * prints key names with their source and scope — never values.
 */
export async function checkCommand(context: CommandContext): Promise<number> {
  const config = await findConfig({ file: context.configFile, cwd: context.cwd, env: context.env });
  const resolution = await resolveOnce({
    config,
    identity: context.identity,
    env: context.env,
    parentEnv: context.env,
    log: context.log,
    runtimeDir: join(runtimeBase(context.env), 'secretvisor.<pid>'),
  });
  context.stdout.write(formatReport(config, context.identity, resolution));
  return 0;
}

function formatReport(config: Config, identity: Identity, resolution: Resolution): string {
  const who = identity.service === undefined ? 'global scope only (no --service)' : `service ${identity.service}${identity.pool === undefined ? '' : `, pool ${identity.pool}`}`;
  const rows = [...resolution.secrets]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, secret]) => [name, secret.source, secret.scope, secret.asEnv ? 'env' : 'templates only', secret.overrides.join(', ')]);
  const sources = new Set([...resolution.secrets.values()].map((secret) => secret.source));
  const lines = [
    `config: ${config.file ?? '(zero-config: ./.env)'}`,
    `for: ${who}`,
    '',
    formatTable(['NAME', 'SOURCE', 'SCOPE', 'DELIVERED AS', 'OVERRIDES'], rows),
  ];
  for (const [name, template] of config.env) lines.push(`env ${name} from template (${template.references.join(', ') || 'no secrets'})`);
  for (const file of config.files) {
    lines.push(`file ${file.path} mode 0${file.mode.toString(8)} from template (${file.template.references.join(', ') || 'no secrets'})${file.env === undefined ? '' : `, path in ${file.env}`}`);
  }
  lines.push(`ok: ${resolution.secrets.size} secrets from ${sources.size} sources; ${resolution.plan.env.size} env vars for the child`);
  return lines.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}
