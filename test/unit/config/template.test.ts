import { describe, expect, it } from 'vitest';
import { parseTemplate, renderTemplate } from '../../../src/config/template.js';
import { SecretValue } from '../../../src/secret-value.js';
import { ConfigError } from '../../../src/errors.js';

const lookup = (values: Record<string, string>) => (name: string) => (name in values ? new SecretValue(values[name] as string) : undefined);

describe('templates', () => {
  it.each([
    ['plain', {}, 'plain'],
    ['{{secret.A}}', { A: 'x' }, 'x'],
    ['{{ secret.A }}:{{secret.B}}\n{{secret.A}}', { A: '1', B: '2' }, '1:2\n1'],
    ['pre {{secret.A}} post', { A: '' }, 'pre  post'],
  ])('renders %j', (text, values, expected) => {
    expect(renderTemplate(parseTemplate(text, 'env.X'), lookup(values), 'env.X')).toBe(expected);
  });

  it('lists each reference once, in order', () => {
    expect(parseTemplate('{{secret.B}}{{secret.A}}{{secret.B}}', 'x').references).toEqual(['B', 'A']);
  });

  it.each(['{{env.HOME}}', '{{secret}}', '{{secret.1A}}', '{{ }}'])('refuses the expression %j', (text) => {
    expect(() => parseTemplate(text, 'env.X')).toThrow(ConfigError);
  });

  it('names an unknown secret, not a value', () => {
    expect(() => renderTemplate(parseTemplate('{{secret.NOPE}}', 'env.X'), lookup({}), 'env.X')).toThrow('env.X refers to {{secret.NOPE}}');
  });
});
