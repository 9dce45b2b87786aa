import { join } from 'node:path';
import { findConfig } from '../config/find-config.js';
import type { Config } from '../config/config.js';
import { ExitCode, describeError } from '../errors.js';
import { runtimeBase } from '../render/runtime-dir.js';
import { resolvePlan, type Resolution } from '../render/resolve-plan.js';
import { listIdentities } from '../scope/list-identities.js';
import { resolveLayers, sourcesOf, type Identity } from '../scope/resolve-layers.js';
import type { CommandContext } from './context.js';
import { readSources } from './read-sources.js';
import { formatTable } from '../lib/format-table.js';

/**
 * `secretvisor check`: validates the config and resolves the child's plan
 * exactly as `run` would, printing names with source and scope — never
 * values. With `--service` (or a config without services), the key table
 * of that view; without, every source is read and every service and pool
 * is resolved, and a failure in any of them fails the check.
 */
export async function checkCommand(context: CommandContext<'check'>): Promise<number> {
  const config = await findConfig({ file: context.configFile, cwd: context.cwd, env: context.env });
  const runtimeDir = join(runtimeBase(context.env), 'secretvisor.<pid>');
  const identities = context.identity.service === undefined ? listIdentities(config.scopes) : [context.identity];
  const names = [...new Set(identities.flatMap((identity) => sourcesOf(resolveLayers(config.scopes, identity))))];
  const snapshots = await readSources({ config, names, identity: context.identity, env: context.env, log: context.log, clock: context.clock, discardValues: true });
  // Values from the last-good cache are named with their age: the source itself did not answer.
  for (const [name, snapshot] of snapshots) {
    if (snapshot.cachedAt === undefined) continue;
    const age = Math.round((context.clock.now() - snapshot.cachedAt.getTime()) / 1000);
    context.stdout.write(`source ${name}: unreachable; its ${snapshot.entries.size} values come from its cache, saved ${age}s ago (${snapshot.cachedAt.toISOString()})\n`);
  }
  const resolve = (identity: Identity): Resolution =>
    resolvePlan({ config, layers: resolveLayers(config.scopes, identity), snapshots, parentEnv: context.env, runtimeDir, argv: [], log: context.log });

  if (identities.length === 1) {
    context.stdout.write(formatDetail(config, context.identity, resolve(context.identity)));
    return ExitCode.ok;
  }
  const rows: string[][] = [];
  let failure: unknown;
  for (const identity of identities) {
    try {
      const resolution = resolve(identity);
      const sources = sourcesOf(resolveLayers(config.scopes, identity));
      rows.push([identity.service ?? '(global)', identity.pool ?? '-', String(resolution.secrets.size), 'ok', sources.join(', ')]);
    } catch (error) {
      failure ??= error;
      rows.push([identity.service ?? '(global)', identity.pool ?? '-', '-', 'FAILED', describeError(error).split('\n')[0] ?? '']);
    }
  }
  context.stdout.write(`config: ${config.file ?? '(zero-config: ./.env)'}\n\n${formatTable(['SERVICE', 'POOL', 'SECRETS', 'STATUS', 'SOURCES'], rows)}`);
  if (failure !== undefined) throw failure;
  context.stdout.write(`ok: ${names.length} sources read; every service and pool resolves (use --service for the key table)\n`);
  return ExitCode.ok;
}

function formatDetail(config: Config, identity: Identity, resolution: Resolution): string {
  const who = identity.service === undefined ? 'global scope only' : `service ${identity.service}${identity.pool === undefined ? '' : `, pool ${identity.pool}`}`;
  const rows = [...resolution.secrets]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, secret]) => [name, secret.source, secret.scope, secret.asEnv ? 'env' : 'templates only', secret.overrides.join(', ')]);
  const sources = new Set([...resolution.secrets.values()].map((secret) => secret.source));
  const lines = [`config: ${config.file ?? '(zero-config: ./.env)'}`, `for: ${who}`, '', formatTable(['NAME', 'SOURCE', 'SCOPE', 'DELIVERED AS', 'OVERRIDES'], rows)];
  for (const [name, template] of config.env) lines.push(`env ${name} from template (${template.references.join(', ') || 'no secrets'})`);
  for (const file of config.files) {
    lines.push(`file ${file.path} mode 0${file.mode.toString(8)} from template (${file.template.references.join(', ') || 'no secrets'})${file.env === undefined ? '' : `, path in ${file.env}`}`);
  }
  lines.push(`ok: ${resolution.secrets.size} secrets from ${sources.size} sources; ${resolution.plan.env.size} env vars for the child`);
  return lines.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}
