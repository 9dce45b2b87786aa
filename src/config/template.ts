import { ConfigError } from '../errors.js';
import type { SecretValue } from '../secret-value.js';

type Part = { readonly literal: string } | { readonly secret: string };

/** A parsed `{{secret.NAME}}` template: literal text and references, in order. */
export interface Template {
  readonly parts: readonly Part[];
  /** Names referred to, each once, in order of first use. */
  readonly references: readonly string[];
}

const SECRET_REFERENCE = /^secret\.([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Parses a template. `where` names the config entry, for the error on a
 * malformed expression (only `{{secret.NAME}}` is known).
 */
export function parseTemplate(text: string, where: string): Template {
  const parts: Part[] = [];
  const references: string[] = [];
  let last = 0;
  for (const expression of findExpressions(text)) {
    const reference = SECRET_REFERENCE.exec(expression.inner.trim());
    if (reference === null) {
      throw new ConfigError(`${where}: "${text.slice(expression.start, expression.end)}" is not a template expression secretvisor knows`, {
        hint: 'write {{secret.NAME}}, where NAME is a secret this service receives',
      });
    }
    const name = reference[1] as string;
    if (expression.start > last) parts.push({ literal: text.slice(last, expression.start) });
    parts.push({ secret: name });
    if (!references.includes(name)) references.push(name);
    last = expression.end;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  return { parts, references };
}

/**
 * Each `{{…}}` in order: from a `{{` to the first `}` after it, when a second
 * `}` follows. A scan rather than a regular expression, whose backtracking
 * took minutes on a long run of `{{` and spaces.
 */
function* findExpressions(text: string): Generator<{ readonly start: number; readonly end: number; readonly inner: string }> {
  let from = 0;
  for (;;) {
    const start = text.indexOf('{{', from);
    if (start === -1) return;
    const close = text.indexOf('}', start + 2);
    if (close === -1) return;
    // No `{{` before this `}` can close here: go on after it.
    if (text[close + 1] !== '}') {
      from = close + 1;
      continue;
    }
    yield { start, end: close + 2, inner: text.slice(start + 2, close) };
    from = close + 2;
  }
}

/**
 * Fills a template from resolved secrets. Throws ConfigError (exit 78)
 * naming the entry and the unknown name — never a value.
 */
export function renderTemplate(template: Template, lookup: (name: string) => SecretValue | undefined, where: string): string {
  let out = '';
  for (const part of template.parts) {
    if ('literal' in part) {
      out += part.literal;
      continue;
    }
    const value = lookup(part.secret);
    if (value === undefined) {
      throw new ConfigError(`${where} refers to {{secret.${part.secret}}}, but no source in this service's scopes yields ${part.secret}`, {
        hint: `add ${part.secret} to a source this service receives, or fix the name`,
      });
    }
    out += value.reveal();
  }
  return out;
}
