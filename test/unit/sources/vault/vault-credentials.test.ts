import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_JWT_FILE,
  readAppRoleCredentials,
  readKubernetesJwt,
  readTokenCredential,
  stripNewline,
  type CredentialInput,
} from '../../../../src/sources/vault/vault-credentials.js';
import { SecretValue } from '../../../../src/secret-value.js';
import { ConfigError, SourceUnavailableError } from '../../../../src/errors.js';

function input(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): CredentialInput & { read: ReturnType<typeof vi.fn> } {
  const read = vi.fn(async (path: string) => {
    const content = files[path];
    if (content === undefined) throw new SourceUnavailableError(`cannot open ${path} (ENOENT)`);
    return new SecretValue(content);
  });
  return { read, env, what: 'vault source "core"' };
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

describe('readTokenCredential', () => {
  it('reads tokenFile first, even when VAULT_TOKEN is set', async () => {
    const credential = await readTokenCredential({ method: 'token', tokenFile: '/t' }, input({ '/t': 'from-file\n' }, { VAULT_TOKEN: 'from-env' }));
    expect([credential.token.reveal(), credential.from]).toEqual(['from-file', 'auth.tokenFile /t']);
  });

  it('then VAULT_TOKEN, without touching any file', async () => {
    const io = input({}, { VAULT_TOKEN: 'from-env', HOME: '/home/x' });
    const credential = await readTokenCredential({ method: 'token' }, io);
    expect([credential.token.reveal(), credential.from]).toEqual(['from-env', 'VAULT_TOKEN']);
    expect(io.read).not.toHaveBeenCalled();
  });

  it('then ~/.vault-token under HOME', async () => {
    const credential = await readTokenCredential({ method: 'token' }, input({ '/home/x/.vault-token': 'from-home' }, { HOME: '/home/x' }));
    expect([credential.token.reveal(), credential.from]).toEqual(['from-home', '/home/x/.vault-token']);
  });

  it('with none of them, fails retryably naming all three places', async () => {
    const error = await readTokenCredential({ method: 'token' }, input({}, { HOME: '/home/x', VAULT_TOKEN: '' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as Error).message).toContain('auth.tokenFile is not set, VAULT_TOKEN is empty and /home/x/.vault-token cannot be read');
  });

  it('refuses an empty token file', async () => {
    await expect(readTokenCredential({ method: 'token', tokenFile: '/t' }, input({ '/t': '\n' }))).rejects.toThrow('auth.tokenFile /t is empty');
  });
});

describe('readAppRoleCredentials', () => {
  it('takes an inline roleId and a secretIdFile', async () => {
    const credentials = await readAppRoleCredentials({ method: 'approle', roleId: 'role', secretIdFile: '/s' }, input({ '/s': 'secret\n' }));
    expect([credentials.roleId.reveal(), credentials.secretId?.reveal()]).toEqual(['role', 'secret']);
  });

  it('reads roleIdFile, and allows no secret_id (bind_secret_id=false)', async () => {
    const credentials = await readAppRoleCredentials({ method: 'approle', roleIdFile: '/r' }, input({ '/r': 'role\n' }));
    expect([credentials.roleId.reveal(), credentials.secretId]).toEqual(['role', undefined]);
  });

  it.each([[{}], [{ roleId: 'a', roleIdFile: '/r' }]])('needs exactly one of roleId and roleIdFile (%j is exit 78)', async (auth) => {
    await expect(readAppRoleCredentials({ method: 'approle', ...auth }, input({}))).rejects.toThrow(ConfigError);
  });
});

describe('readKubernetesJwt', () => {
  it('reads the service-account token by default', async () => {
    const jwt = await readKubernetesJwt({ method: 'kubernetes', role: 'app' }, input({ [DEFAULT_JWT_FILE]: 'jwt\n' }));
    expect(jwt.reveal()).toBe('jwt');
  });

  it('or jwtFile', async () => {
    const jwt = await readKubernetesJwt({ method: 'kubernetes', role: 'app', jwtFile: '/j' }, input({ '/j': 'other' }));
    expect(jwt.reveal()).toBe('other');
  });
});
