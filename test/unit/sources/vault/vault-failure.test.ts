import { describe, expect, it } from 'vitest';
import { getRequestError, raceAbort, VaultRequestError } from '../../../../src/sources/vault/vault-http.js';
import { getVaultFailureHint, toVaultSourceError, vaultFailureKind } from '../../../../src/sources/vault/vault-failure.js';
import { SourceUnavailableError } from '../../../../src/errors.js';
import { SecretValue } from '../../../../src/secret-value.js';

const CALL = { method: 'GET', path: 'secret/data/app' } as const;

describe('getRequestError', () => {
  it.each([
    [{ message: 'Vault is sealed', response: { statusCode: 503 } }, 503, 'Vault is sealed'],
    [{ message: 'Status 404', response: { statusCode: 404 } }, 404, ''],
    [{ message: '1 error occurred:\n\t* permission denied\n\n', response: { statusCode: 403 } }, 403, 'permission denied'],
    [{ code: 'ECONNABORTED', message: 'timeout of 2000ms exceeded' }, undefined, 'no answer within 2000ms'],
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:8200' }, undefined, 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8200'],
    [{ code: 'ECONNRESET', message: 'socket hang up' }, undefined, 'ECONNRESET: socket hang up'],
  ])('maps %j to status %s and %j', (thrown, status, reason) => {
    const error = getRequestError(thrown, CALL, 2000);
    expect(error).toBeInstanceOf(VaultRequestError);
    expect([error.status, error.message]).toEqual([status, reason]);
  });

  it('keeps nothing of the client error (whose config holds the token) and cuts out any credential echoed back', () => {
    const token = new SecretValue('hvs.very-secret-token');
    const thrown = {
      message: 'bad token hvs.very-secret-token and secret id sid-12345',
      response: { statusCode: 400 },
      config: { headers: { 'X-Vault-Token': token.reveal() } },
    };
    const error = getRequestError(thrown, { method: 'POST', path: 'auth/approle/login', token, body: { secret_id: 'sid-12345' } }, 1000);
    expect(error.message).toBe('bad token [redacted] and secret id [redacted]');
    expect(JSON.stringify(error)).not.toContain('very-secret');
    expect(error.cause).toBeUndefined();
  });
});

describe('raceAbort', () => {
  it('rejects as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const pending = raceAbort(new Promise(() => undefined), controller.signal);
    controller.abort();
    await expect(pending).rejects.toThrow('aborted');
  });

  it('passes the result through otherwise', async () => {
    await expect(raceAbort(Promise.resolve(3), new AbortController().signal)).resolves.toBe(3);
  });
});

describe('toVaultSourceError', () => {
  const context = { what: 'vault source "core"', action: 'read secret/data/app', address: 'https://vault:8200' };

  it('names the source, the action with its path, the address and the status', () => {
    const error = toVaultSourceError(new VaultRequestError(503, 'Vault is sealed'), context);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect(error.exitCode).toBe(69);
    expect(error.message).toBe('vault source "core": read secret/data/app at https://vault:8200 failed: 503 Vault is sealed');
  });

  it.each<[number, number]>([
    [403, 77],
    [404, 66],
    [429, 69],
    [500, 69],
  ])('maps status %i to exit %i: denied and not-found are permanent, the rest is retried', (status, code) => {
    expect(toVaultSourceError(new VaultRequestError(status, 'x'), context).exitCode).toBe(code);
  });

  it.each([
    [undefined, 'connection refused', 'VAULT_ADDR'],
    [403, 'permission denied', 'policy'],
    [404, '', 'secret/data/app'],
    [503, 'Vault is sealed', 'unseal'],
    [500, 'internal error', 'server error'],
    [429, 'rate limit', 'rate-limiting'],
    [401, 'unauthorized', 'policy'],
    [400, 'bad request', 'auth settings'],
    [404, 'Version 3 of the secret was deleted', 'undelete'],
    [502, 'bad gateway', 'server error'],
    [307, 'Vault redirected twice', 'server error'],
  ])('hints at the usual fix for status %s', (status, reason, hint) => {
    expect(getVaultFailureHint(new VaultRequestError(status, reason))).toContain(hint);
  });

  it('passes a SourceUnavailableError through', () => {
    const original = new SourceUnavailableError('login refused');
    expect(toVaultSourceError(original, context)).toBe(original);
  });

  it('tells a 403 apart', () => {
    expect(vaultFailureKind(new VaultRequestError(403, 'permission denied'), 'read')).toBe('denied');
    expect(vaultFailureKind(new VaultRequestError(404, ''), 'read')).not.toBe('denied');
    expect(vaultFailureKind(new Error('403'), 'read')).not.toBe('denied');
  });
});

describe('vaultFailureKind: the Vault client in the shared vocabulary', () => {
  it.each<[string, unknown, 'login' | 'read', string]>([
    ['no answer within the timeout', new VaultRequestError(undefined, 'no answer within 2000ms'), 'read', 'unreachable'],
    ['connection refused', new VaultRequestError(undefined, 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8200'), 'read', 'unreachable'],
    ['an error that never reached Vault', new Error('socket hang up'), 'read', 'unreachable'],
    ['401 at a read', new VaultRequestError(401, 'unauthorized'), 'read', 'denied'],
    ['403 at a read (the policy)', new VaultRequestError(403, 'permission denied'), 'read', 'denied'],
    ['403 at a login', new VaultRequestError(403, 'permission denied'), 'login', 'denied'],
    ['400 at a login (invalid role or secret ID)', new VaultRequestError(400, 'invalid role or secret ID'), 'login', 'denied'],
    ['400 at a read', new VaultRequestError(400, 'bad request'), 'read', 'other'],
    ['404 at a read (no such path)', new VaultRequestError(404, ''), 'read', 'not-found'],
    ['404 at a login (no such auth mount)', new VaultRequestError(404, 'no handler for route'), 'login', 'not-found'],
    ['429 (rate limited)', new VaultRequestError(429, 'request path "secret/data/app": rate limit quota exceeded'), 'read', 'throttled'],
    ['500', new VaultRequestError(500, 'internal error'), 'read', 'server-error'],
    ['502 from a proxy', new VaultRequestError(502, 'bad gateway'), 'read', 'server-error'],
    ['503 sealed', new VaultRequestError(503, 'Vault is sealed'), 'read', 'server-error'],
    ['a redirect it refused to follow', new VaultRequestError(307, 'Vault redirected twice'), 'read', 'other'],
  ])('maps %s to %4$s', (_what, error, during, kind) => {
    expect(vaultFailureKind(error, during)).toBe(kind);
  });

  it.each<[number | undefined, number]>([
    [undefined, 69],
    [400, 69],
    [401, 77],
    [403, 77],
    [404, 66],
    [429, 69],
    [502, 69],
    [503, 69],
  ])('a read failing with status %s exits %i at start-up (after the retries for 69)', (status, code) => {
    const context = { what: 'vault source "core"', action: 'read secret/data/app', address: 'https://vault:8200' };
    expect(toVaultSourceError(new VaultRequestError(status, 'x'), context).exitCode).toBe(code);
  });
});
