import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Config } from './config.js';
import { finalizeConfig } from './finalize.js';
import { loadConfigFile } from './load.js';
import { validateRawConfig } from './validate-config.js';
import type { RawConfig } from './schema.js';

/** Where the config comes from and what may change it. */
export interface FindConfigOptions {
  /** --config or SECRETVISOR_CONFIG. */
  readonly file: string | undefined;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Command-line overrides of the file's values; returning the same object means none. */
  readonly override?: ((raw: Record<string, unknown>) => Record<string, unknown>) | undefined;
}

/** The config file read when none is named. */
export const DEFAULT_FILE = 'secretvisor.yaml';
const ZERO_CONFIG_FILE = '.env';

/**
 * Loads the config: the named file, else ./secretvisor.yaml, else — with no
 * config file at all — zero-config mode, where ./.env is the one source
 * (permission-checked like any other).
 */
export async function findConfig(options: FindConfigOptions): Promise<Config> {
  const named = options.file === undefined || options.file === '' ? undefined : resolve(options.cwd, options.file);
  const file = named ?? resolve(options.cwd, DEFAULT_FILE);
  const fromFile = named !== undefined || existsSync(file);
  let raw: RawConfig;
  if (fromFile) {
    raw = await loadConfigFile(file, options.env);
  } else if (existsSync(resolve(options.cwd, ZERO_CONFIG_FILE))) {
    raw = { version: 1, sources: { dotenv: { type: 'dotenv', path: ZERO_CONFIG_FILE } } };
  } else {
    throw new ConfigError(`no config: neither ./${DEFAULT_FILE} nor ./${ZERO_CONFIG_FILE} exists in ${options.cwd}`, {
      hint: 'pass --config FILE, or create a .env file for zero-config mode',
    });
  }
  const overridden = options.override?.(raw as Record<string, unknown>);
  // The file is valid already: validate again only when a flag changed something.
  if (overridden !== undefined && overridden !== raw) {
    const result = await validateRawConfig(overridden);
    if (!result.success) {
      const { explainIssue } = await import('./explain-issue.js');
      throw new ConfigError(`invalid command-line option: ${result.error.issues.flatMap((issue) => explainIssue(issue, () => [])).join('; ')}`);
    }
    raw = result.data;
  }
  return finalizeConfig(raw, { file: fromFile ? file : undefined, env: options.env, cwd: options.cwd });
}
