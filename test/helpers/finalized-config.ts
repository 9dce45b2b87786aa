import type { Config } from '../../src/config/config.js';
import { finalizeConfig } from '../../src/config/finalize.js';
import type { RawConfig } from '../../src/config/schema.js';

/**
 * `raw` (the YAML's shape: version 1 and one dotenv source `app` unless it
 * gives its own) with every default applied, as `run` would have it for a
 * config file in /srv/app, with `env` as secretvisor's environment.
 */
export function finalizedConfig(raw: Omit<Partial<RawConfig>, 'version'> = {}, env: NodeJS.ProcessEnv = {}): Config {
  return finalizeConfig({ version: 1, sources: { app: { type: 'dotenv', path: 'app.env' } }, ...raw } as RawConfig, { file: '/srv/app/secretvisor.yaml', env, cwd: '/srv/app' });
}
