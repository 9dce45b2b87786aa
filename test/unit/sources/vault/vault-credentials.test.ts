import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { getTokenPlace, readAppRoleCredentials, readKubernetesJwt, readTokenCredential, stripNewline, type CredentialInput } from '../../../../src/sources/vault/vault-credentials.js';
import { SecretValue } from '../../../../src/secret-value.js';
import { SourceUnavailableError } from '../../../../src/errors.js';
import { DEFAULTS } from '../../../../src/config/defaults.js';
import type { RawVaultAuth } from '../../../../src/config/schema.js';
import { vaultAuth } from '../../../servers/vault/fixtures.js';

function input(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): CredentialInput & { read: ReturnType<typeof vi.fn> } {
  const read = vi.fn(async (path: string) => {
    const content = files[path];
    if (content === undefined) throw new SourceUnavailableError(`cannot open ${path} (ENOENT)`);
    return new SecretValue(content);
  });
  return { read, env, what: 'vault source "core"' };
}

// Each auth as a config writes it, finalized as the source receives it (HOME from the same env).
function auth<M extends RawVaultAuth['method']>(raw: Extract<RawVaultAuth, { method: M }>, env: NodeJS.ProcessEnv = {}) {
  return vaultAuth(raw, env) as Extract<ReturnType<typeof vaultAuth>, { method: M }>;
}

describe('stripNewline', () => {
  it.each([
    ['token\n', 'token'],
    ['token\r\n', 'token'],
    ['token\n\n', 'token\n'],
    ['token', 'token'],
    [' token ', ' token '],
  ])('%j → %j (one trailing newline only)', (raw, stripped) => {
    expect(stripNewline(new SecretValue(raw)).reveal()).toBe(stripped);
  });
});

describe('getTokenPlace: the one rule the source reads by and audit checks by', () => {
  it.each([
    ['tokenFile, whatever the env holds', { method: 'token', tokenFile: '/t' }, { VAULT_TOKEN: 'from-env', HOME: '/home/x' }, { kind: 'tokenFile', path: '/t' }],
    ['VAULT_TOKEN, which needs no file', { method: 'token' }, { VAULT_TOKEN: 'from-env', HOME: '/home/x' }, { kind: 'env' }],
    ['~/.vault-token when VAULT_TOKEN is unset', { method: 'token' }, { HOME: '/home/x' }, { kind: 'home', path: '/home/x/.vault-token' }],
    ['~/.vault-token when VAULT_TOKEN is empty', { method: 'token' }, { HOME: '/home/x', VAULT_TOKEN: '' }, { kind: 'home', path: '/home/x/.vault-token' }],
    ["the user's home when HOME is unset", { method: 'token' }, {}, { kind: 'home', path: join(homedir(), '.vault-token') }],
  ] as const)('%s', (_what, raw, env, expected) => {
    expect(getTokenPlace(auth(raw, env), env)).toMatchObject(expected);
  });
});

describe('readTokenCredential', () => {
  it('reads tokenFile first, even when VAULT_TOKEN is set', async () => {
    const credential = await readTokenCredential(auth({ method: 'token', tokenFile: '/t' }), input({ '/t': 'from-file\n' }, { VAULT_TOKEN: 'from-env' }));
    expect([credential.token.reveal(), credential.from]).toEqual(['from-file', 'auth.tokenFile /t']);
  });

  it('then VAULT_TOKEN, without touching any file', async () => {
    const env = { VAULT_TOKEN: 'from-env', HOME: '/home/x' };
    const io = input({}, env);
    const credential = await readTokenCredential(auth({ method: 'token' }, env), io);
    expect([credential.token.reveal(), credential.from]).toEqual(['from-env', 'VAULT_TOKEN']);
    expect(io.read).not.toHaveBeenCalled();
  });

  it('then ~/.vault-token under HOME', async () => {
    const credential = await readTokenCredential(auth({ method: 'token' }, { HOME: '/home/x' }), input({ '/home/x/.vault-token': 'from-home' }, { HOME: '/home/x' }));
    expect([credential.token.reveal(), credential.from]).toEqual(['from-home', '/home/x/.vault-token']);
  });

  it('with none of them, fails retryably naming all three places', async () => {
    const env = { HOME: '/home/x', VAULT_TOKEN: '' };
    const error = await readTokenCredential(auth({ method: 'token' }, env), input({}, env)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as Error).message).toContain('auth.tokenFile is not set, VAULT_TOKEN is empty and /home/x/.vault-token cannot be read');
  });

  it('refuses an empty token file', async () => {
    await expect(readTokenCredential(auth({ method: 'token', tokenFile: '/t' }), input({ '/t': '\n' }))).rejects.toThrow('auth.tokenFile /t is empty');
  });
});

describe('readAppRoleCredentials', () => {
  it('takes an inline roleId and a secretIdFile', async () => {
    const credentials = await readAppRoleCredentials(auth({ method: 'approle', roleId: 'role', secretIdFile: '/s' }), input({ '/s': 'secret\n' }));
    expect([credentials.roleId.reveal(), credentials.secretId?.reveal()]).toEqual(['role', 'secret']);
  });

  it('reads roleIdFile, and allows no secret_id (bind_secret_id=false)', async () => {
    const credentials = await readAppRoleCredentials(auth({ method: 'approle', roleIdFile: '/r' }), input({ '/r': 'role\n' }));
    expect([credentials.roleId.reveal(), credentials.secretId]).toEqual(['role', undefined]);
  });
});

describe('readKubernetesJwt', () => {
  it('reads the service-account token by default', async () => {
    const jwt = await readKubernetesJwt(auth({ method: 'kubernetes', role: 'app' }), input({ [DEFAULTS.kubernetesJwtFile]: 'jwt\n' }));
    expect(jwt.reveal()).toBe('jwt');
  });

  it('or jwtFile', async () => {
    const jwt = await readKubernetesJwt(auth({ method: 'kubernetes', role: 'app', jwtFile: '/j' }), input({ '/j': 'other' }));
    expect(jwt.reveal()).toBe('other');
  });
});
