import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { assertNever } from '../lib/assert-never.js';
import type { VaultAuthConfig } from './config.js';
import { DEFAULTS } from './defaults.js';
import type { RawVaultAuth } from './schema.js';

/** What {@link finalizeVaultAuth} resolves against. */
export interface VaultAuthContext {
  /** The source's name, for messages. */
  readonly name: string;
  /** Makes a path of the config absolute (against the config file's folder). */
  readonly absolute: (path: string) => string;
  /** secretvisor's own environment: HOME, AWS_ENDPOINT_URL_STS. */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Checks a Vault source's `auth:` and applies its defaults, so that the login
 * reads every setting as given: the method's mount, the kubernetes token
 * file, the STS region and endpoint the aws method signs for (stsEndpoint,
 * else AWS_ENDPOINT_URL_STS, else the region's, else the global one), and the
 * token method's ~/.vault-token.
 */
export function finalizeVaultAuth(auth: RawVaultAuth, context: VaultAuthContext): VaultAuthConfig {
  const { absolute, env } = context;
  switch (auth.method) {
    case 'token':
      return {
        method: 'token',
        tokenFile: auth.tokenFile === undefined ? undefined : absolute(auth.tokenFile),
        homeTokenFile: join(env.HOME ?? homedir(), DEFAULTS.vaultHomeTokenFile),
      };
    case 'approle': {
      const common = {
        method: 'approle',
        mount: auth.mount ?? DEFAULTS.vaultAuthMount.approle,
        secretIdFile: auth.secretIdFile === undefined ? undefined : absolute(auth.secretIdFile),
      } as const;
      if (auth.roleId !== undefined && auth.roleIdFile === undefined) return { ...common, roleId: auth.roleId };
      if (auth.roleId === undefined && auth.roleIdFile !== undefined) return { ...common, roleIdFile: absolute(auth.roleIdFile) };
      throw new ConfigError(`sources.${context.name}.auth: approle needs exactly one of roleId and roleIdFile`, {
        hint: 'set roleId: (not secret) or roleIdFile:',
      });
    }
    case 'kubernetes':
      return {
        method: 'kubernetes',
        role: auth.role,
        jwtFile: absolute(auth.jwtFile ?? DEFAULTS.kubernetesJwtFile),
        mount: auth.mount ?? DEFAULTS.vaultAuthMount.kubernetes,
      };
    case 'aws':
      return {
        method: 'aws',
        role: auth.role,
        mount: auth.mount ?? DEFAULTS.vaultAuthMount.aws,
        region: auth.region ?? DEFAULTS.stsRegion,
        stsEndpoint: auth.stsEndpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_STS) ?? (auth.region === undefined ? DEFAULTS.stsEndpoint : undefined),
        headerValue: auth.headerValue,
      };
    case 'jwt':
      return { method: 'jwt', role: auth.role, jwtFile: absolute(auth.jwtFile), mount: auth.mount ?? DEFAULTS.vaultAuthMount.jwt };
    default:
      return assertNever(auth, 'unexpected config value');
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
