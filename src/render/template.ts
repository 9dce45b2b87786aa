import { ConfigError } from '../errors.js';
import type { SecretValue } from '../secret-value.js';

type Part = { readonly literal: string } | { readonly secret: string };

/** A parsed `{{secret.NAME}}` template: literal text and references, in order. */
export interface Template {
  readonly parts: readonly Part[];
  /** Names referred to, each once, in order of first use. */
  readonly references: readonly string[];
}

const EXPRESSION = /\{\{\s*([^}]*?)\s*\}\}/g;
const SECRET_REFERENCE = /^secret\.([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Parses a template. `where` names the config entry, for the error on a
 * malformed expression (only `{{secret.NAME}}` is known).
 */
export function parseTemplate(text: string, where: string): Template {
  const parts: Part[] = [];
  const references: string[] = [];
  let last = 0;
  for (const match of text.matchAll(EXPRESSION)) {
    const reference = SECRET_REFERENCE.exec(match[1] ?? '');
    if (reference === null) {
      throw new ConfigError(`${where}: "${match[0]}" is not a template expression secretvisor knows`, {
        hint: 'write {{secret.NAME}}, where NAME is a secret this service receives',
      });
    }
    const name = reference[1] as string;
    if (match.index > last) parts.push({ literal: text.slice(last, match.index) });
    parts.push({ secret: name });
    if (!references.includes(name)) references.push(name);
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  return { parts, references };
}

/**
 * Fills a template from resolved secrets. Throws ConfigError (exit 78)
 * naming the entry and the unknown name — never a value.
 */
export function renderTemplate(
  template: Template,
  lookup: (name: string) => SecretValue | undefined,
  where: string,
): string {
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
