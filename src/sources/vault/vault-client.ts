import { readFile } from 'node:fs/promises';
import type { Clock } from '../../clock.js';
import { ConfigError, SecretvisorError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { getRequestError, type VaultHttp } from './vault-http.js';
import { createVaultTransport } from './vault-transport.js';
import { errnoOf } from '../../lib/errno.js';

/** Where and how to reach Vault; one per source (each may set its own timeout and CA). */
export interface VaultClientOptions {
  readonly address: string;
  readonly namespace: string | undefined;
  /** PEM file of the CA to trust: the source's `caCert`, which config already defaults to VAULT_CACERT. */
  readonly caCertFile: string | undefined;
  readonly timeoutMs: number;
  /** The clock the timeout runs on. */
  readonly clock: Clock;
  /** VAULT_SKIP_VERIFY as secretvisor received it. */
  readonly skipVerify: boolean;
  /** Origins a redirect may lead to (`followRedirects`); empty: none. */
  readonly redirectOrigins: ReadonlySet<string>;
  /** Largest answer accepted (`maxResponseSize`). */
  readonly maxResponseBytes: number;
  readonly what: string;
  readonly log: Logger;
}

/** True when VAULT_SKIP_VERIFY asks to skip TLS verification, as the Vault CLI reads it. */
export function getSkipVerify(env: NodeJS.ProcessEnv): boolean {
  const value = env.VAULT_SKIP_VERIFY?.toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/**
 * Makes the HTTP client of one source, as {@link VaultHttp}. Every setting
 * comes from the source's config, nothing from process.env behind its back;
 * failures become VaultRequestError with any credential of the call cut
 * out of the text; oversized answers stay SecretDataError (exit 65).
 */
export async function createVaultClient(options: VaultClientOptions): Promise<VaultHttp> {
  const ca = options.caCertFile === undefined ? undefined : await readCaCert(options.caCertFile, options.what);
  if (options.skipVerify) {
    options.log.warn({ address: options.address }, `${options.what}: VAULT_SKIP_VERIFY is set: TLS certificates are not verified`);
  }
  const transport = createVaultTransport({ ...options, ca });
  return {
    async call(call) {
      try {
        return await transport(call);
      } catch (error) {
        if (error instanceof SecretvisorError) throw error;
        throw getRequestError(error, call, options.timeoutMs);
      }
    },
  };
}

async function readCaCert(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${what}: cannot read the CA certificate ${path} (${errnoOf(error) ?? 'error'})`, {
      hint: 'point caCert (or VAULT_CACERT) at the PEM file of the CA that signed Vault’s certificate',
    });
  }
}
