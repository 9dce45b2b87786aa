import { describe, expect, it } from 'vitest';
import { parseSecretResponse, toSecretText } from '../../../../src/sources/vault/secret-response.js';
import { SecretDataError } from '../../../../src/errors.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');

function values(entries: ReadonlyMap<string, { reveal(): string }>): Record<string, string> {
  return Object.fromEntries([...entries].map(([key, value]) => [key, value.reveal()]));
}

describe('parseSecretResponse', () => {
  it('reads KV v2: inner data, version number and creation time', () => {
    const response = {
      lease_id: '',
      data: { data: { API_KEY: 'k' }, metadata: { version: 7, created_time: '2029-12-31T10:00:00.5Z', destroyed: false } },
    };
    const parsed = parseSecretResponse(response, 'secret/data/app', 'vault source "core"', NOW);
    expect(parsed).toMatchObject({ kind: 'kv-v2', version: 'kv2:7:2029-12-31T10:00:00.5Z', lease: undefined });
    expect(parsed.updatedAt?.toISOString()).toBe('2029-12-31T10:00:00.500Z');
    expect(values(parsed.entries)).toEqual({ API_KEY: 'k' });
  });

  it('reads KV v1: the data itself, with a keyed digest as version that changes with any value', () => {
    const a = parseSecretResponse({ lease_id: '', lease_duration: 2_764_800, data: { A: '1' } }, 'kv/app', 'x', NOW);
    const b = parseSecretResponse({ lease_id: '', data: { A: '2' } }, 'kv/app', 'x', NOW);
    const again = parseSecretResponse({ lease_id: '', data: { A: '1' } }, 'kv/app', 'x', NOW);
    expect(a.kind).toBe('kv-v1');
    expect(a.version).toMatch(/^kv1:[0-9a-f]{16}$/);
    expect(a.version).not.toBe(b.version);
    expect(again.version).toBe(a.version);
  });

  it('treats data/metadata objects outside a …/data/… path as KV v1 values', () => {
    const parsed = parseSecretResponse({ data: { data: { x: 1 }, metadata: { version: 1 } } }, 'kv/app', 'x', NOW);
    expect(parsed.kind).toBe('kv-v1');
    expect(values(parsed.entries)).toEqual({ data: '{"x":1}', metadata: '{"version":1}' });
  });

  it('reads dynamic credentials with their lease; the lease id is the version', () => {
    const response = { lease_id: 'database/creds/app/abc', lease_duration: 3600, renewable: true, data: { username: 'u', password: 'p' } };
    const parsed = parseSecretResponse(response, 'database/creds/app', 'x', NOW);
    expect(parsed).toMatchObject({
      kind: 'dynamic',
      version: 'lease:database/creds/app/abc',
      lease: { id: 'database/creds/app/abc', durationMs: 3_600_000, renewable: true },
    });
    expect(parsed.updatedAt?.getTime()).toBe(NOW);
  });

  it('refuses an answer without data (exit 65), naming the source and path', () => {
    expect(() => parseSecretResponse({ data: null }, 'sys/health', 'vault source "core"', NOW)).toThrow(SecretDataError);
    expect(() => parseSecretResponse({}, 'sys/health', 'vault source "core"', NOW)).toThrow('vault source "core": Vault\'s answer for sys/health holds no data');
  });
});

describe('toSecretText', () => {
  it.each([
    ['text', 'text'],
    ['', ''],
    [5432, '5432'],
    [1.5, '1.5'],
    [true, 'true'],
    [false, 'false'],
    [null, ''],
    [{ a: [1, 'b'] }, '{"a":[1,"b"]}'],
    [['x', 'y'], '["x","y"]'],
  ])('%j becomes %j', (value, text) => {
    expect(toSecretText(value)).toBe(text);
  });
});
