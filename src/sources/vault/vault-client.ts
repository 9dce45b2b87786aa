import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { getRequestError, raceAbort, type VaultHttp } from './vault-http.js';

/** Where and how to reach Vault; one per source (each may set its own timeout and CA). */
export interface VaultClientOptions {
  readonly address: string;
  readonly namespace: string | undefined;
  /** PEM file of the CA to trust: the source's `caCert`, which config already defaults to VAULT_CACERT. */
  readonly caCertFile: string | undefined;
  readonly timeoutMs: number;
  /** VAULT_SKIP_VERIFY as secretvisor received it. */
  readonly skipVerify: boolean;
  readonly what: string;
  readonly log: Logger;
}

/** True when VAULT_SKIP_VERIFY asks to skip TLS verification, as the Vault CLI reads it. */
export function getSkipVerify(env: NodeJS.ProcessEnv): boolean {
  const value = env.VAULT_SKIP_VERIFY?.toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/**
 * Makes a node-vault client for one source and wraps it as {@link VaultHttp}.
 * node-vault is imported here, on first use, so configs without Vault never
 * load it. Every setting comes from the source's config: the client's own
 * fallbacks to process.env (VAULT_TOKEN, VAULT_PREFIX…) are switched off,
 * and its debug output, which prints request bodies, is silenced.
 */
export async function createVaultClient(options: VaultClientOptions): Promise<VaultHttp> {
  const { default: nodeVault } = await import('node-vault');
  const ca = options.caCertFile === undefined ? undefined : await readCaCert(options.caCertFile, options.what);
  if (options.skipVerify) {
    options.log.warn({ address: options.address }, `${options.what}: VAULT_SKIP_VERIFY is set: TLS certificates are not verified`);
  }
  const client = nodeVault({
    endpoint: options.address,
    apiVersion: 'v1',
    debug: () => undefined,
    requestOptions: { timeout: options.timeoutMs, strictSSL: !options.skipVerify, ...(ca === undefined ? {} : { ca }) },
  });
  Object.assign(client, { token: '', namespace: options.namespace ?? '', pathPrefix: '' });
  return {
    async call(call) {
      const headers: Record<string, string> = call.token === undefined ? {} : { 'X-Vault-Token': call.token.reveal() };
      const request = client.request({
        path: `/${call.path}`,
        method: call.method,
        headers,
        timeout: options.timeoutMs,
        ...(call.body === undefined ? {} : { json: call.body }),
      }) as Promise<unknown>;
      try {
        return await raceAbort(request, call.signal);
      } catch (error) {
        throw getRequestError(error, call, options.timeoutMs);
      }
    },
  };
}

async function readCaCert(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${what}: cannot read the CA certificate ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'point caCert (or VAULT_CACERT) at the PEM file of the CA that signed Vault’s certificate',
    });
  }
}
