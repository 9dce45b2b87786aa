import { ConfigError } from '../errors.js';

const REFERENCE = /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)\})/g;

/** Keys a JavaScript object does not keep as plain data (`__proto__` is dropped silently). */
export const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

// `env.NAME` and `files[i].template`: parsed as templates in finalize.
function isTemplatePath(path: readonly (string | number)[]): boolean {
  return (path.length === 2 && path[0] === 'env') || (path.length === 3 && path[0] === 'files' && path[2] === 'template');
}

/**
 * Replaces `${NAME}` in a template's literal text, once it is parsed: an
 * environment value holding `{{secret.X}}` stays that text, never an
 * expression. `where` names the entry for errors.
 */
export function interpolateLiterals(text: string, env: NodeJS.ProcessEnv, where: readonly (string | number)[]): string {
  return interpolateString(text, env, where);
}

/**
 * Replaces `${NAME}` in every string of a parsed config with secretvisor's own
 * environment; `$$` is a literal `$`. An undefined name, or a YAML alias that
 * contains itself, is a ConfigError naming the config path.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path: readonly (string | number)[] = [], ancestors: Set<object> = new Set()): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path);
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) {
    throw new ConfigError(`${formatPath(path)} contains itself through a YAML alias`, { hint: 'an alias (*name) may not point at a map or list that holds it' });
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, [...path, index], ancestors));
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        if (PROTOTYPE_NAMES.has(key)) {
          throw new ConfigError(`${formatPath([...path, key])}: "${key}" cannot be a key: JavaScript objects treat it as their prototype`, {
            hint: 'rename it',
          });
        }
        const at = [...path, key];
        // Templates are interpolated after they are parsed (see interpolateLiterals): text from the environment stays literal.
        if (typeof item === 'string' && isTemplatePath(at)) return [key, item];
        return [key, interpolateEnv(item, env, at, ancestors)];
      }),
    );
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
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');
}
