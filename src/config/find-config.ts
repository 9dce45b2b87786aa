import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Config } from './config.js';
import type { ConfigFlags } from './config-flags.js';
import { finalizeConfig } from './finalize.js';
import { readConfigFile } from './load.js';
import { mergeFlags } from './merge-flags.js';
import { validateConfig } from './validate-config.js';

/** Where the config comes from and what the command line sets over it. */
export interface FindConfigOptions {
  /** --config or SECRETVISOR_CONFIG. */
  readonly file: string | undefined;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Config keys set by flags (`run --on-exit`); they win over the file's. */
  readonly flags?: ConfigFlags | undefined;
}

/** The config file read when none is named. */
export const DEFAULT_FILE = 'secretvisor.yaml';
const ZERO_CONFIG_FILE = '.env';

/**
 * Loads the config in one pass: the named file, else ./secretvisor.yaml,
 * else — with no config file at all — zero-config mode, where ./.env is the
 * one source (permission-checked like any other); then the flags merged over
 * it, the whole validated once, and finalized.
 */
export async function findConfig(options: FindConfigOptions): Promise<Config> {
  const named = options.file === undefined || options.file === '' ? undefined : resolve(options.cwd, options.file);
  const file = named ?? resolve(options.cwd, DEFAULT_FILE);
  const fromFile = named !== undefined || existsSync(file);
  let data: Record<string, unknown>;
  if (fromFile) {
    data = await readConfigFile(file, options.env);
  } else if (existsSync(resolve(options.cwd, ZERO_CONFIG_FILE))) {
    data = { version: 1, sources: { dotenv: { type: 'dotenv', path: ZERO_CONFIG_FILE } } };
  } else {
    throw new ConfigError(`no config: neither ./${DEFAULT_FILE} nor ./${ZERO_CONFIG_FILE} exists in ${options.cwd}`, {
      hint: 'pass --config FILE, or create a .env file for zero-config mode',
    });
  }
  const flags = options.flags ?? {};
  const origin = { file: fromFile ? file : undefined, flags };
  const raw = await validateConfig(mergeFlags(data, flags), origin);
  return finalizeConfig(raw, { ...origin, env: options.env, cwd: options.cwd });
}
