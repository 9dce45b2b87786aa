import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { SecretValue } from '../secret-value.js';
import { digestEntries } from '../sources/content-digest.js';
import type { ResolvedSecret } from '../scope/merge-layers.js';
import { isOwnCredential } from './own-credentials.js';
import { renderTemplate } from '../config/template.js';
import { validateExecSize } from './env-limits.js';

/** A file output, rendered. */
export interface RenderedFile {
  /** Relative to the runtime folder. */
  readonly path: string;
  readonly content: SecretValue;
  readonly mode: number;
}

/** Everything the child is given: its whole environment and its files, with digests to compare plans. */
export interface Plan {
  readonly env: ReadonlyMap<string, SecretValue>;
  readonly files: readonly RenderedFile[];
  readonly envDigest: string;
  readonly filesDigest: string;
}

/** Inputs of {@link buildPlan}. */
export interface BuildPlanOptions {
  readonly config: Config;
  /** Every secret this service receives (templates see them all). */
  readonly secrets: ReadonlyMap<string, ResolvedSecret>;
  /** The secrets that enter the environment (from `asEnv` sources). */
  readonly envSecrets: ReadonlyMap<string, ResolvedSecret>;
  /** secretvisor's own environment. */
  readonly parentEnv: NodeJS.ProcessEnv;
  /** Absolute runtime folder for file outputs; needed only when the config has files. */
  readonly runtimeDir: string | undefined;
  /** The command line, counted against the kernel's size limit. */
  readonly argv: readonly string[];
}

/**
 * Composes what the child gets, in override order: the inherited environment
 * (per `inherit`, never secretvisor's own credentials) < secrets < `env:`
 * entries < file path pointers; then renders the file outputs. Refuses an
 * environment the kernel would not exec.
 */
export function buildPlan(options: BuildPlanOptions): Plan {
  const { config, secrets } = options;
  const lookup = (name: string): SecretValue | undefined => secrets.get(name)?.value;
  const env = new Map<string, SecretValue>();
  for (const [name, value] of Object.entries(options.parentEnv)) {
    if (value !== undefined && isInherited(name, config.inherit)) env.set(name, new SecretValue(value));
  }
  for (const [name, secret] of options.envSecrets) env.set(name, secret.value);
  for (const [name, template] of config.env) env.set(name, new SecretValue(renderTemplate(template, lookup, `env.${name}`)));
  const files = config.files.map((file, index) => ({
    path: file.path,
    mode: file.mode,
    content: new SecretValue(renderTemplate(file.template, lookup, `files[${index}] (${file.path})`)),
  }));
  for (const file of config.files) {
    if (file.env !== undefined) env.set(file.env, new SecretValue(join(options.runtimeDir ?? '', file.path)));
  }
  validateExecSize(env, options.argv);
  return {
    env,
    files,
    envDigest: digestEntries(env),
    filesDigest: digestEntries(files.map((file) => [`${file.path}:${file.mode}`, file.content] as const)),
  };
}

// A list names variables on purpose, so it may pass one of secretvisor's own;
// `all` never does.
function isInherited(name: string, inherit: Config['inherit']): boolean {
  if (inherit === 'none') return false;
  if (inherit === 'all') return !isOwnCredential(name);
  return inherit.has(name);
}
