import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { findDuplicateKey } from './duplicate-keys.js';
import { ConfigError } from '../errors.js';
import type { RawConfig } from './schema.js';
import { invalidFileError, validateConfig } from './validate-config.js';
import { interpolateEnv } from './interpolate.js';

/**
 * Reads a config file's data: YAML (duplicate keys and syntax errors
 * reported with line and column), then `${NAME}` references to `env`. The
 * data is not validated yet: that happens once, with the flags merged in.
 * Every failure is a ConfigError (exit 78) naming the file.
 */
export async function readConfigFile(path: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  return parseData(await readConfigText(path), path, env);
}

/**
 * Reads only `metrics:` and `scopes:` of a config file, each checked as in
 * the whole file: for `status`, which runs in an operator's shell, without the
 * service's environment that other sections' `${NAME}` may need.
 */
export async function loadMetricsSections(path: string, env: NodeJS.ProcessEnv): Promise<Pick<RawConfig, 'metrics' | 'scopes'>> {
  const { configSchema } = await import('./schema.js');
  const data = parseData(await readConfigText(path), path, env, ['metrics', 'scopes']);
  const result = configSchema.pick({ metrics: true, scopes: true }).safeParse(data, { reportInput: true });
  if (!result.success) throw await invalidFileError(result.error.issues, data, path);
  return result.data;
}

async function readConfigText(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'pass the right file with --config or SECRETVISOR_CONFIG',
      cause: error,
    });
  }
  return text;
}

/** Parses and validates config text, as a file without flags; `path` is only for messages. */
export async function parseConfigText(text: string, path: string, env: NodeJS.ProcessEnv): Promise<RawConfig> {
  return validateConfig(parseData(text, path, env), { file: path, flags: {} });
}

function parseData(text: string, path: string, env: NodeJS.ProcessEnv, keys?: readonly string[]): Record<string, unknown> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: false, lineCounter });
  const first = document.errors[0];
  if (first !== undefined) {
    const where = first.linePos?.[0] === undefined ? '' : ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}`;
    throw new ConfigError(`${path}: not valid YAML${where}: ${first.code}`, {
      hint: 'fix the YAML syntax (indentation, quotes, a key written twice)',
    });
  }
  const duplicate = findDuplicateKey(document);
  if (duplicate !== undefined) {
    const { line, col } = lineCounter.linePos(duplicate.offset);
    throw new ConfigError(`${path}: not valid YAML at line ${line}, column ${col}: DUPLICATE_KEY "${duplicate.key}"`, {
      hint: 'write each key once per map',
    });
  }
  return interpolateEnvIn(select(toData(document, path), keys), path, env);
}

/** The named top-level keys of the file's map (anything else is left for interpolateEnvIn to refuse). */
function select(data: unknown, keys: readonly string[] | undefined): unknown {
  if (keys === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([key]) => keys.includes(key)));
}

// toJS throws (not reports) an alias to an anchor not yet defined, and an
// alias count that looks like a resource exhaustion attack.
function toData(document: Document, path: string): unknown {
  try {
    return document.toJS();
  } catch (error) {
    throw new ConfigError(`${path}: not usable YAML: ${(error as Error).message}`, {
      hint: 'define each &anchor before its *aliases, and use aliases sparingly',
    });
  }
}

function interpolateEnvIn(data: unknown, path: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${path}: the config must be a YAML map with version: 1 and sources:`, {
      hint: 'start from the annotated config in the README',
    });
  }
  try {
    return interpolateEnv(data, env) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${path}: ${error.message}`, { hint: error.hint });
    throw error;
  }
}
