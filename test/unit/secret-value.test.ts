import { format, inspect } from 'node:util';
import { Console } from 'node:console';
import { describe, expect, it } from 'vitest';
import { SECRET_MASK, SecretValue } from '../../src/secret-value.js';
import { captureLog } from '../helpers/log-capture.js';

const VALUE = 'hunter2-3f9a1c-do-not-print';
const secret = new SecretValue(VALUE);
const holder = { name: 'DB_PASSWORD', value: secret, nested: { list: [secret], map: new Map([['k', secret]]), set: new Set([secret]) } };

describe('SecretValue never prints its value', () => {
  it.each<[string, () => unknown]>([
    ['String()', () => String(secret)],
    ['a template literal', () => `${secret}`],
    ['concatenation', () => 'x' + secret],
    ['toString()', () => secret.toString()],
    ['JSON.stringify of the value', () => JSON.stringify(secret)],
    ['JSON.stringify of an object holding it', () => JSON.stringify(holder)],
    ['util.inspect', () => inspect(secret)],
    ['util.inspect of an object holding it, deep, with hidden fields', () => inspect(holder, { depth: 10, showHidden: true })],
    ['util.inspect without custom inspectors', () => inspect(holder, { depth: 10, customInspect: false, showHidden: true })],
    ['util.format with %s, %o, %O, %j', () => format('%s %o %O %j', secret, holder, holder, holder)],
    ['Object.entries and spreading', () => JSON.stringify([Object.entries(secret), { ...secret }])],
    ['an Error message built from it', () => new Error(`bad value ${secret}`).message],
    ['Array join', () => [secret, secret].join(',')],
    ['structuredClone (private fields are not copied)', () => inspect(structuredClone(secret))],
  ])('through %s', (_name, print) => {
    expect(String(print())).not.toContain(VALUE);
  });

  it('through console.log of an object holding it', () => {
    const out = captureLog();
    new Console({ stdout: out.destination, stderr: out.destination }).log('holder:', holder, secret);
    new Console({ stdout: out.destination, stderr: out.destination }).dir(holder, { depth: 10, showHidden: true });
    expect(out.text()).toContain(SECRET_MASK);
    expect(out.text()).not.toContain(VALUE);
  });

  it('through pino: as a field, nested, as a message argument, and in an error', () => {
    const out = captureLog();
    const { log } = out;
    log.info({ value: secret }, 'a field');
    log.info(holder, 'merged object');
    log.info('formatted %s %o %j', secret, holder, holder);
    log.error({ err: new Error(`failed with ${secret}`) }, 'an error');
    log.trace({ list: [secret], map: Object.fromEntries(holder.nested.map) }, `message ${secret}`);
    log.flush();
    expect(out.text()).toContain(SECRET_MASK);
    expect(out.text()).not.toContain(VALUE);
    expect(out.text().trim().split('\n')).toHaveLength(5);
  });

  it('still gives the value to reveal(), and compares without revealing', () => {
    expect(secret.reveal()).toBe(VALUE);
    expect(secret.equals(new SecretValue(VALUE))).toBe(true);
    expect(secret.equals(new SecretValue('other'))).toBe(false);
    expect(secret.byteLength).toBe(Buffer.byteLength(VALUE));
  });
});
