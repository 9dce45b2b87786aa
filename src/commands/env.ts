import { join } from 'node:path';
import { findConfig } from '../config/find-config.js';
import { UsageError } from '../errors.js';
import { runtimeBase } from '../render/runtime-dir.js';
import { SECRET_MASK } from '../secret-value.js';
import type { CommandContext } from './context.js';
import type { CommandOptions } from './command-flags.js';
import { resolveOnce } from './resolve-once.js';

type EnvFormat = NonNullable<CommandOptions<'env'>['format']>;

/**
 * `secretvisor env`: prints what secretvisor adds to the child's
 * environment (secrets, env: entries, file pointers — not the inherited
 * rest), masked unless `--reveal`.
 */
export async function envCommand(context: CommandContext<'env'>): Promise<number> {
  const format = context.options.format ?? 'dotenv';
  const config = await findConfig({ file: context.configFile, cwd: context.cwd, env: context.env });
  const reveal = context.options.reveal === true;
  const { plan } = await resolveOnce({
    discardValues: !reveal,
    config,
    identity: context.identity,
    env: context.env,
    parentEnv: {},
    log: context.log,
    clock: context.clock,
    runtimeDir: join(runtimeBase(context.env), 'secretvisor.<pid>'),
  });
  const entries = [...plan.env].sort(([a], [b]) => a.localeCompare(b)).map(([name, value]): [string, string] => [name, reveal ? value.reveal() : SECRET_MASK]);
  context.stdout.write(reveal ? formatEnv(entries, format) : formatMasked(entries, format));
  return 0;
}

function formatEnv(entries: readonly [string, string][], format: EnvFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(Object.fromEntries(entries), null, 2) + '\n';
    case 'shell':
      return entries.map(([name, value]) => `export ${name}=${shellQuote(value)}\n`).join('');
    case 'dotenv':
      return entries.map(([name, value]) => `${name}=${dotenvQuote(name, value)}\n`).join('');
  }
}

// The mask needs no quoting; printing it bare keeps masked output readable.
function formatMasked(entries: readonly [string, string][], format: EnvFormat): string {
  if (format === 'json') return formatEnv(entries, format);
  const prefix = format === 'shell' ? 'export ' : '';
  return entries.map(([name]) => `${prefix}${name}=${SECRET_MASK}\n`).join('');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// dotenv unescapes nothing but \n, and that only inside double quotes, so
// pick the quote the value cannot be misread in: single quotes are literal,
// double quotes carry newlines (when the value has no literal backslash-n),
// backticks are literal and span lines.
function dotenvQuote(name: string, value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]*$/.test(value)) return value;
  // dotenv turns every CR (and CRLF) into LF before parsing, inside quotes too: no quoting keeps one.
  if (value.includes('\r')) {
    throw new UsageError(`env: the value of ${name} holds a carriage return, which dotenv format cannot keep (a dotenv reader turns it into a newline)`, {
      hint: 'use --format json or --format shell, which keep every value exactly',
    });
  }
  if (!value.includes("'") && !value.includes('\n')) return `'${value}'`;
  if (!value.includes('"') && !value.includes('\\n')) return `"${value.replace(/\n/g, '\\n')}"`;
  if (!value.includes('`')) return `\`${value}\``;
  throw new UsageError(`env: the value of ${name} cannot be written in dotenv format`, { hint: 'use --format json or --format shell' });
}
