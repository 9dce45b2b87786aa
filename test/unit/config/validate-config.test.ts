import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import validateConfigShape from '../../../src/config/generated/config-validator.js';
import { configSchema } from '../../../src/config/schema.js';
import { validateRawConfig } from '../../../src/config/validate-config.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');
const exampleConfigs = readdirSync(EXAMPLES)
  .map((name) => join(EXAMPLES, name, 'secretvisor.yaml'))
  .filter((path) => existsSync(path))
  .map((path) => [path.slice(EXAMPLES.length + 1), parse(readFileSync(path, 'utf8')) as unknown] as const);

const dir = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'directory', path: './secrets', ...extra });
const config = (extra: Record<string, unknown> = {}, source: Record<string, unknown> = dir()): Record<string, unknown> => ({ version: 1, sources: { creds: source }, ...extra });
const vault = (extra: Record<string, unknown>): Record<string, unknown> => ({ type: 'vault', address: 'https://vault:8200', path: 'secret/data/app', ...extra });
const ssm = (extra: Record<string, unknown>): Record<string, unknown> => ({ type: 'aws-ssm', ...extra });

/** Good and bad configs, the edges of each check that JSON Schema does not say the way zod does. */
const CASES: readonly (readonly [string, unknown])[] = [
  ['the smallest config', config()],
  ['not a map', []],
  ['null', null],
  ['version 2', { ...config(), version: 2 }],
  ['version "1"', { ...config(), version: '1' }],
  ['no sources', { version: 1 }],
  ['an unknown top-level key', config({ sorces: {} })],
  ['an unknown source key', config({}, dir({ pathh: 'x' }))],
  ['an unknown source type', config({}, { type: 'dontenv', path: 'x' })],
  ['a source without type', config({}, { path: 'x' })],
  ['a bad source name', { version: 1, sources: { '-x': dir() } }],
  ['an empty path', config({}, dir({ path: '' }))],
  ['a path with a NUL byte', config({}, dir({ path: 'a\0b' }))],
  ['a duration of 596h', config({ onChange: { debounce: '596h' } })],
  ['a duration of 597h', config({ onChange: { debounce: '597h' } })],
  ['2^31 - 1 ms', config({ onChange: { stopTimeout: '2147483647ms' } })],
  ['2^31 ms', config({ onChange: { stopTimeout: '2147483648ms' } })],
  ['a fractional duration', config({ startup: { timeout: '1.5m' } })],
  ['a duration without unit', config({ startup: { timeout: '10' } })],
  ['a duration as a number', config({ startup: { timeout: 10 } })],
  ['a refresh on a source', config({}, dir({ refresh: '30s' }))],
  ['a response size of 1GiB', config({}, vault({ maxResponseSize: '1GiB' }))],
  ['a response size of 1025MiB', config({}, vault({ maxResponseSize: '1025MiB' }))],
  ['a response size of 0B', config({}, vault({ maxResponseSize: '0B' }))],
  ['a Vault address', config({}, vault({}))],
  ['a Vault address with a space before it (zod trims it)', config({}, vault({ address: ' https://vault:8200' }))],
  ['a Vault address with a tab inside (zod drops it)', config({}, vault({ address: 'https://va\tult:8200' }))],
  ['a Vault address that is not a URL', config({}, vault({ address: 'vault 8200' }))],
  ['redirects to listed origins', config({}, vault({ followRedirects: ['https://vault-2:8200'] }))],
  ['redirects to no origin', config({}, vault({ followRedirects: [] }))],
  ['redirects: sometimes', config({}, vault({ followRedirects: 'sometimes' }))],
  ['approle auth', config({}, vault({ auth: { method: 'approle', roleId: 'r', secretIdFile: '/etc/s' } }))],
  ['an unknown auth method', config({}, vault({ auth: { method: 'ldap' } }))],
  ['kubernetes auth without role', config({}, vault({ auth: { method: 'kubernetes' } }))],
  ['aws auth with a region', config({}, vault({ auth: { method: 'aws', role: 'r', region: 'eu-central-1' } }))],
  ['aws auth with a bad region', config({}, vault({ auth: { method: 'aws', role: 'r', region: 'Europe' } }))],
  ['pki with IP SANs', config({}, vault({ path: undefined, pki: { role: 'r', commonName: 'a.example', ipSans: ['10.0.0.5', 'fd00::5'] } }))],
  ['pki with an IPv6 SAN that only the URL parser takes', config({}, vault({ pki: { role: 'r', commonName: 'a', ipSans: ['::@1\\'] } }))],
  ['pki with a bad IPv4 SAN', config({}, vault({ pki: { role: 'r', commonName: 'a', ipSans: ['10.0.0.256'] } }))],
  ['an aws-ssm path', config({}, ssm({ path: '/noxus/prod' }))],
  ['an aws-ssm path without its slash', config({}, ssm({ path: 'noxus/prod' }))],
  ['an aws-ssm name of 2048 characters', config({}, ssm({ names: [`/${'a'.repeat(2047)}`] }))],
  ['an aws-ssm name of 2049 characters', config({}, ssm({ names: [`/${'a'.repeat(2048)}`] }))],
  ['an empty aws-ssm names list', config({}, ssm({ names: [] }))],
  ['a key mapped to an astral character (2 UTF-16 units)', config({}, dir({ keys: { A: '😀' } }))],
  ['a key mapped to an empty name', config({}, dir({ keys: { A: '' } }))],
  ['an invalid env name', config({ env: { '1A': 'x' } })],
  ['env values', config({ env: { DATABASE_URL: 'postgres://{{secret.U}}@db' } })],
  ['a file output', config({ files: [{ path: 'a', template: 'x', mode: '0400', env: 'A_FILE' }] })],
  ['a file mode as a number', config({ files: [{ path: 'a', template: 'x', mode: 400 }] })],
  ['inherit a list', config({ inherit: ['HOME', 'PATH'] })],
  ['inherit some', config({ inherit: 'some' })],
  ['a user id', config({ user: 1000, group: 'app' })],
  ['a negative user id', config({ user: -1 })],
  ['a fractional user id', config({ user: 1.5 })],
  ['an infinite user id', config({ user: Infinity })],
  ['NaN as a user id', config({ user: Number.NaN })],
  ['an empty user name', config({ user: '' })],
  ['a generated key by bytes', config({}, dir({ generate: { TOKEN: { bytes: 32, encoding: 'hex' } } }))],
  ['a generated key of 4097 bytes', config({}, dir({ generate: { TOKEN: { bytes: 4097 } } }))],
  ['a generated key by alphabet', config({}, dir({ generate: { PIN: { length: 6, alphabet: '0123456789' } } }))],
  ['an alphabet of one character', config({}, dir({ generate: { PIN: { length: 6, alphabet: '0' } } }))],
  ['an alphabet with a quote', config({}, dir({ generate: { PIN: { length: 6, alphabet: '01"' } } }))],
  ['a source onChange with its own signal', config({}, dir({ onChange: { action: 'signal', signal: 'SIGUSR1' } }))],
  ['a source onChange with a bad signal', config({}, dir({ onChange: { action: 'signal', signal: 'usr1' } }))],
  ['a held TCP socket', config({ listen: [{ name: 'http', tcp: '127.0.0.1:8080', backlog: 128 }] })],
  ['a held socket with both tcp and unix', config({ listen: [{ name: 'http', tcp: '127.0.0.1:8080', unix: '/run/a.sock' }] })],
  ['a backlog of 0', config({ listen: [{ name: 'http', tcp: '127.0.0.1:8080', backlog: 0 }] })],
  ['metrics', config({ metrics: { listen: '127.0.0.1:9464', services: { worker: '127.0.0.1:9465' } } })],
  ['metrics without listen', config({ metrics: { services: {} } })],
  ['a cache', config({ cache: { dir: '/var/lib/secretvisor', keyFile: '/etc/secretvisor/key' } })],
  ['scopes', config({ scopes: { global: ['creds'], services: { worker: ['creds'] }, pools: { worker: { finance: ['creds'] } } } })],
  ['a scope naming a bad source name', config({ scopes: { global: ['-creds'] } })],
  ['an undefined value where a key is optional', config({ onExit: undefined })],
];

describe('the generated config validator', () => {
  it.each([...exampleConfigs, ...CASES])('agrees with zod on %s', (_name, data) => {
    const zod = configSchema.safeParse(data);
    // It passes exactly what zod passes unchanged; anything else is zod's to decide and to word.
    expect(validateConfigShape(data)).toBe(zod.success && isDeepStrictEqual(zod.data, data));
  });

  it.each(exampleConfigs)('passes the example %s without zod', (_name, data) => {
    expect(validateConfigShape(data)).toBe(true);
  });

  it.each(CASES)('gives the result zod gives for %s', async (_name, data) => {
    const zod = configSchema.safeParse(data, { reportInput: true });
    const result = await validateRawConfig(data);
    expect(result.success).toBe(zod.success);
    if (result.success && zod.success) expect(result.data).toStrictEqual(zod.data);
    else expect(result.error?.issues).toStrictEqual(zod.error?.issues);
  });
});
