import { SourceUnavailableError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import type { VaultAuthConfig } from '../../config/config.js';
import { stripOneNewline } from '../../lib/strip-newline.js';

/** How credentials are read: a file reader applying the source's permission policy, the env, the source's name. */
export interface CredentialInput {
  /** Reads a credential file; `key` (`auth.tokenFile`) names it in errors. */
  readonly read: (path: string, key: string) => Promise<SecretValue>;
  readonly env: NodeJS.ProcessEnv;
  /** `vault source "core"`. */
  readonly what: string;
}

type AuthOf<M extends VaultAuthConfig['method']> = Extract<VaultAuthConfig, { method: M }>;

/** A token and where it came from (`auth.tokenFile /etc/x`, `VAULT_TOKEN`), for messages. */
export interface TokenCredential {
  readonly token: SecretValue;
  readonly from: string;
}

/** Strips one trailing newline (`\n` or `\r\n`), as files written by `echo` or editors end with one. */
export function stripNewline(value: SecretValue): SecretValue {
  const text = value.reveal();
  const stripped = stripOneNewline(text);
  return stripped === text ? value : new SecretValue(stripped);
}

/** Where the `token` method's token comes from: a file (tokenFile, or ~/.vault-token), or VAULT_TOKEN. */
export type TokenPlace = { readonly kind: 'tokenFile' | 'home'; readonly path: string } | { readonly kind: 'env'; readonly token: SecretValue };

/**
 * The one rule for where the `token` method reads: `tokenFile`, else
 * VAULT_TOKEN when it holds a token, else `homeTokenFile` (~/.vault-token,
 * the file `vault login` writes). `audit` checks the file this names.
 */
export function getTokenPlace(auth: AuthOf<'token'>, env: NodeJS.ProcessEnv): TokenPlace {
  if (auth.tokenFile !== undefined) return { kind: 'tokenFile', path: auth.tokenFile };
  const fromEnv = env.VAULT_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') return { kind: 'env', token: new SecretValue(fromEnv) };
  return { kind: 'home', path: auth.homeTokenFile };
}

/**
 * The token of the `token` method, from where {@link getTokenPlace} says.
 * Files are checked like secret files. No token in ~/.vault-token is
 * retryable: an agent or an operator may be about to write it.
 */
export async function readTokenCredential(auth: AuthOf<'token'>, input: CredentialInput): Promise<TokenCredential> {
  const place = getTokenPlace(auth, input.env);
  switch (place.kind) {
    case 'tokenFile':
      return { token: await readNonEmpty(place.path, 'auth.tokenFile', input), from: `auth.tokenFile ${place.path}` };
    case 'env':
      return { token: place.token, from: 'VAULT_TOKEN' };
    case 'home':
      try {
        return { token: await readNonEmpty(place.path, '~/.vault-token', input), from: place.path };
      } catch (error) {
        if (!(error instanceof SourceUnavailableError)) throw error;
        throw new SourceUnavailableError(`${input.what}: no Vault token: auth.tokenFile is not set, VAULT_TOKEN is empty and ${place.path} cannot be read`, {
          hint: 'set auth.tokenFile, give secretvisor VAULT_TOKEN, or run `vault login` as this user',
        });
      }
  }
}

/** The role_id (inline or from `roleIdFile`) and secret_id (from `secretIdFile`, when the role binds one). */
export async function readAppRoleCredentials(auth: AuthOf<'approle'>, input: CredentialInput): Promise<{ readonly roleId: SecretValue; readonly secretId: SecretValue | undefined }> {
  const roleId = auth.roleIdFile === undefined ? new SecretValue(auth.roleId) : await readNonEmpty(auth.roleIdFile, 'auth.roleIdFile', input);
  const secretId = auth.secretIdFile === undefined ? undefined : await readNonEmpty(auth.secretIdFile, 'auth.secretIdFile', input);
  return { roleId, secretId };
}

/** The service-account JWT of the `kubernetes` method, from `jwtFile` (the pod's own token unless the config names another). */
export async function readKubernetesJwt(auth: AuthOf<'kubernetes'>, input: CredentialInput): Promise<SecretValue> {
  return readNonEmpty(auth.jwtFile, 'auth.jwtFile', input);
}

/** The JWT of the `jwt` method, read afresh from `jwtFile` at each login, so a rotated token (a projected service-account token) is the one sent. */
export async function readJwtCredential(auth: AuthOf<'jwt'>, input: CredentialInput): Promise<SecretValue> {
  return readNonEmpty(auth.jwtFile, 'auth.jwtFile', input);
}

async function readNonEmpty(path: string, key: string, input: CredentialInput): Promise<SecretValue> {
  const value = stripNewline(await input.read(path, key));
  if (value.byteLength === 0) {
    throw new SourceUnavailableError(`${input.what}: ${key} ${path} is empty`, { hint: `write the credential into ${path}` });
  }
  return value;
}
