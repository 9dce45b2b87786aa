import { SourceUnavailableError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import type { VaultAuthConfig } from '../../config/config.js';
import type { VaultHttp } from './vault-http.js';
import { VaultRequestError } from './vault-http.js';
import { describeFailure, toVaultSourceError, vaultFailureKind } from './vault-failure.js';
import { sourceFailure } from '../failure-kind.js';
import { getNumber, getObject } from './json-fields.js';
import { readAppRoleCredentials, readJwtCredential, readKubernetesJwt, readTokenCredential, type CredentialInput } from './vault-credentials.js';
import { signCallerIdentity } from './aws-iam-login.js';

/** A usable token and its lease: `ttlMs` 0 means it never expires (a root or periodic-less token). */
export interface VaultLogin {
  readonly token: SecretValue;
  readonly ttlMs: number;
  readonly renewable: boolean;
}

/** What {@link loginVault} needs. */
export interface LoginOptions {
  readonly http: VaultHttp;
  readonly auth: VaultAuthConfig;
  readonly credentials: CredentialInput;
  readonly address: string;
}

/**
 * Gets a token by the configured method. `token`: read it (tokenFile,
 * VAULT_TOKEN, ~/.vault-token) and look it up, to learn its TTL and check
 * it works. `approle`, `kubernetes`, `jwt` and `aws`: log in at
 * `auth/<mount>/login`, reading the credential afresh each time (a rotated
 * JWT file, the SDK's current AWS credentials).
 */
export async function loginVault(options: LoginOptions): Promise<VaultLogin> {
  const { auth, credentials } = options;
  switch (auth.method) {
    case 'token': {
      const { token, from } = await readTokenCredential(auth, credentials);
      const response = await callLogin(options, { method: 'GET', path: 'auth/token/lookup-self', token }, `token lookup (token from ${from})`);
      const data = getObject(response, 'data');
      return { token, ttlMs: getNumber(data, 'ttl') * 1000, renewable: data?.renewable === true };
    }
    case 'approle': {
      const { roleId, secretId } = await readAppRoleCredentials(auth, credentials);
      const body = { role_id: roleId.reveal(), ...(secretId === undefined ? {} : { secret_id: secretId.reveal() }) };
      const path = `auth/${auth.mount}/login`;
      return getAuthLogin(await callLogin(options, { method: 'POST', path, body }, `approle login at ${path}`), options);
    }
    case 'kubernetes': {
      const jwt = await readKubernetesJwt(auth, credentials);
      const path = `auth/${auth.mount}/login`;
      const body = { role: auth.role, jwt: jwt.reveal() };
      return getAuthLogin(await callLogin(options, { method: 'POST', path, body }, `kubernetes login at ${path}`), options);
    }
    case 'jwt': {
      const jwt = await readJwtCredential(auth, credentials);
      const path = `auth/${auth.mount}/login`;
      const body = { role: auth.role, jwt: jwt.reveal() };
      return getAuthLogin(await callLogin(options, { method: 'POST', path, body }, `jwt login at ${path}`), options);
    }
    case 'aws': {
      const signed = await signCallerIdentity(auth, credentials.what);
      const path = `auth/${auth.mount}/login`;
      const body = { role: auth.role, ...signed };
      return getAuthLogin(await callLogin(options, { method: 'POST', path, body }, `aws login at ${path} (role ${auth.role})`), options);
    }
  }
}

async function callLogin(options: LoginOptions, call: Parameters<VaultHttp['call']>[0], action: string): Promise<unknown> {
  try {
    return await options.http.call(call);
  } catch (error) {
    if (error instanceof VaultRequestError && vaultFailureKind(error, 'login') === 'denied') {
      throw sourceFailure('denied', `${options.credentials.what}: Vault refused the ${action}: ${describeFailure(error)}`, {
        hint: getRefusalHint(options.auth),
      });
    }
    throw toVaultSourceError(error, { what: options.credentials.what, action, address: options.address });
  }
}

function getRefusalHint(auth: VaultAuthConfig): string {
  switch (auth.method) {
    case 'token':
      return 'the token has expired, been revoked, or belongs to another namespace: give secretvisor a valid one';
    case 'approle':
      return 'check roleId/roleIdFile and secretIdFile (secret IDs expire and may be single-use), and the auth mount';
    case 'kubernetes':
      return 'check auth.role, that jwtFile holds a current service-account token, and the auth mount';
    case 'jwt':
      return "check auth.role, that jwtFile holds a current JWT (not expired) whose aud, iss and subject claims match the role's bound_* settings, and the auth mount";
    case 'aws':
      return "check auth.role (auth_type=iam), that its bound_iam_principal_arn names the AWS identity secretvisor runs as, that headerValue matches the mount's iam_server_id_header_value, and that region/stsEndpoint match Vault's sts_endpoint";
  }
}

function getAuthLogin(response: unknown, options: LoginOptions): VaultLogin {
  const auth = getObject(response, 'auth');
  const token = auth?.client_token;
  if (typeof token !== 'string' || token === '') {
    throw new SourceUnavailableError(`${options.credentials.what}: Vault's login answer holds no client_token`, {
      hint: 'check that the address points at Vault',
    });
  }
  return { token: new SecretValue(token), ttlMs: getNumber(auth, 'lease_duration') * 1000, renewable: auth?.renewable === true };
}
