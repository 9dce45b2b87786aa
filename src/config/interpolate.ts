import { ConfigError } from '../errors.js';

const REFERENCE = /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)\})/g;

/**
 * Replaces `${NAME}` in every string of a parsed config with secretvisor's own
 * environment; `$$` is a literal `$`. An undefined name, or a YAML alias that
 * contains itself, is a ConfigError naming the config path.
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: readonly (string | number)[] = [],
  ancestors: Set<object> = new Set(),
): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path);
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) {
    throw new ConfigError(`${formatPath(path)} contains itself through a YAML alias`, { hint: 'an alias (*name) may not point at a map or list that holds it' });
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, [...path, index], ancestors));
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, [...path, key], ancestors)]));
  } finally {
    ancestors.delete(value);
  }
}

function interpolateString(text: string, env: NodeJS.ProcessEnv, path: readonly (string | number)[]): string {
  return text.replace(REFERENCE, (whole, escaped: string, name: string | undefined) => {
    if (name === undefined) return escaped;
    const value = env[name];
    if (value === undefined) {
      throw new ConfigError(`${formatPath(path)} refers to \${${name}}, which is not set in secretvisor's environment`, {
        hint: `set ${name} before starting secretvisor, or write $\${${name}} for a literal`,
      });
    }
    return value;
  });
}

/** `sources.core.auth.method` style text of a config path; `(top level)` for the root. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join('');
}
