import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTemplate, renderTemplate } from '../../../src/config/template.js';
import { ConfigError, ExitCode, SecretvisorError, describeError } from '../../../src/errors.js';
import { SecretValue } from '../../../src/secret-value.js';

const VALUES: Record<string, string> = { A: 'value-of-a', B_2: 'value-of-b', _C: '' };
const lookup = (name: string): SecretValue | undefined => (name in VALUES ? new SecretValue(VALUES[name] as string) : undefined);

function parseError(text: string): unknown {
  try {
    parseTemplate(text, 'env.X');
    return undefined;
  } catch (error) {
    return error;
  }
}

const SOUP = ['{', '}', '{{', '}}', '{{{', '}}}', ' ', '\n', 'secret', '.', 'secret.', 'A', 'B_2', '_C', 'NOPE', '1A', 'env.HOME', '\\', '$', '${A}', 'é', '\u0000'];

describe('hostile templates never crash: parsed, or a ConfigError (exit 78)', () => {
  it('for soup of braces and names', () => {
    const soup = fc.array(fc.constantFrom(...SOUP), { maxLength: 40 }).map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(soup, (text) => {
        const error = parseError(text);
        if (error === undefined) return;
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as SecretvisorError).exitCode).toBe(ExitCode.config);
        expect(describeError(error)).toContain('env.X');
      }),
      { numRuns: 3_000 },
    );
  });

  it('for arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const error = parseError(text);
        if (error !== undefined) expect(error).toBeInstanceOf(ConfigError);
      }),
      { numRuns: 1_000 },
    );
  });

  it('renders literal text and references exactly: what is not an expression stays as written', () => {
    const literal = fc.string({ maxLength: 12 }).filter((text) => !text.includes('{{') && !text.includes('}') && !text.endsWith('{'));
    const part = fc.oneof(
      literal.map((text) => ({ text, out: text })),
      fc.constantFrom('A', 'B_2', '_C').map((name) => ({ text: `{{ secret.${name} }}`, out: VALUES[name] as string })),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 10 }), (parts) => {
        const text = parts.map((p) => p.text).join('');
        expect(renderTemplate(parseTemplate(text, 'env.X'), lookup, 'env.X')).toBe(parts.map((p) => p.out).join(''));
      }),
      { numRuns: 1_000 },
    );
  });

  it('names a missing secret and never prints a value, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('A', 'B_2'),
        fc.string({ maxLength: 10 }).filter((text) => !/[{}]/.test(text)),
        (known, around) => {
          const template = parseTemplate(`${around}{{secret.${known}}}${around}{{secret.NOPE}}`, 'env.X');
          const error = (() => {
            try {
              renderTemplate(template, lookup, 'env.X');
              return undefined;
            } catch (caught) {
              return caught;
            }
          })();
          expect(error).toBeInstanceOf(ConfigError);
          expect(describeError(error)).toContain('{{secret.NOPE}}');
          expect(describeError(error)).not.toContain(VALUES[known]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ['"{{" and 100,000 spaces', `{{${' '.repeat(100_000)}`],
    ['100,000 "{"', '{'.repeat(100_000)],
    ['50,000 "{{}"', '{{}'.repeat(50_000)],
    ['100,000 "{{ secret.A }}"', '{{ secret.A }}'.repeat(100_000)],
    ['"{{" then a megabyte without a closing brace', `{{secret.${'A'.repeat(1024 * 1024)}`],
  ])('parses %s in linear time', (_name, text) => {
    const started = Date.now();
    const error = parseError(text);
    if (error !== undefined) expect(error).toBeInstanceOf(ConfigError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it.each([
    ['{{{secret.A}}}', 'is not a template expression'],
    ['{{ secret.A }', undefined],
    ['{{secret.A}}}', undefined],
    ['{{secret.A\n}}', undefined],
    ['{{}}', 'is not a template expression'],
    ['{{ env.HOME }}', 'is not a template expression'],
  ])('%j: %s', (text, message) => {
    const error = parseError(text);
    if (message === undefined) expect(error).toBeUndefined();
    else expect(describeError(error)).toContain(message);
  });
});
