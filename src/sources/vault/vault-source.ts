import { SecretvisorError, SourceUnavailableError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import type { VaultSourceConfig } from '../../config/config.js';
import { readSecretFile } from '../read-secret-file.js';
import type { SecretSource, Snapshot, SourceContext } from '../source.js';
import { createVaultClient, getSkipVerify, type VaultClientOptions } from './vault-client.js';
import type { VaultCall, VaultHttp } from './vault-http.js';
import { toVaultSourceError, vaultFailureKind } from './vault-failure.js';
import { loginVault } from './vault-login.js';
import { TokenSession } from './token-session.js';
import { getSessionKey, sharedSessions, type SessionRegistry } from './session-registry.js';
import type { SharedHandle } from '../../lib/shared-by-key.js';
import { LeaseKeeper } from './lease-keeper.js';
import { RefreshTimer } from '../refresh-timer.js';
import { parseSecretResponse, type SecretKind } from './secret-response.js';
import type { CredentialInput } from './vault-credentials.js';
import { CertificateIssuer } from './pki-issuer.js';

/** Side effects of a Vault source, replaceable in tests; production defaults otherwise. */
export interface VaultSourceOptions {
  readonly createClient?: (options: VaultClientOptions) => Promise<VaultHttp>;
  readonly sessions?: SessionRegistry;
}

interface Parts {
  readonly http: VaultHttp;
  readonly session: TokenSession;
  readonly sessionShare: SharedHandle<TokenSession>;
  readonly keeper: LeaseKeeper;
  readonly stopListening: () => void;
}

/**
 * A Vault secret: KV v2, KV v1, dynamic credentials, or a certificate its
 * PKI engine issues (`pki`, see {@link CertificateIssuer}). Sources with the same
 * address, namespace and auth share one token. KV secrets are re-read every
 * `refresh` — one request when nothing changed — and dynamic credentials
 * are answered from what is held until their lease is due for re-issue.
 * Failed reads throw SourceUnavailableError; the supervisor keeps the last
 * good values and retries with backoff.
 */
export function createVaultSource(context: SourceContext<VaultSourceConfig>, options: VaultSourceOptions = {}): SecretSource {
  const { config } = context;
  const { clock } = context;
  const sessions = options.sessions ?? sharedSessions;
  const sessionKey = getSessionKey(config);
  const what = `vault source "${config.name}"`;
  const log = context.log.child({ source: config.name });
  let onDue: ((reason: string) => void) | undefined;
  const refresh = new RefreshTimer({ clock, refreshMs: config.refreshMs, onDue: (reason) => onDue?.(reason) });
  let setup: Promise<Parts> | undefined;
  let keeper: LeaseKeeper | undefined;
  let reading: Promise<Snapshot> | undefined;
  let last: { readonly snapshot: Snapshot; readonly kind: SecretKind } | undefined;
  let closed = false;
  const pki = config.pki === undefined ? undefined : new CertificateIssuer({ pki: config.pki, path: config.path, address: config.address, what, clock, log, onDue: (reason) => onDue?.(reason) });

  const credentials: CredentialInput = {
    env: context.env,
    what,
    read: async (path, key) => (await readSecretFile(path, { policy: config.permissions, log, what: `${what} ${key}` })).value,
  };

  async function makeParts(): Promise<Parts> {
    const http = await (options.createClient ?? createVaultClient)({
      address: config.address,
      namespace: config.namespace,
      caCertFile: config.caCert,
      timeoutMs: config.timeoutMs,
      clock,
      skipVerify: getSkipVerify(context.env),
      redirectOrigins: config.redirectOrigins,
      maxResponseBytes: config.maxResponseBytes,
      what,
      log,
    });
    const sessionShare = sessions.acquire(
      sessionKey,
      () =>
        new TokenSession({
          http,
          clock,
          log: context.log.child({ vaultAuth: config.auth.method, address: config.address }),
          login: () => loginVault({ http, auth: config.auth, credentials, address: config.address }),
        }),
    );
    const session = sessionShare.value;
    const keeper = new LeaseKeeper({ http, session, clock, log, onReissue: (reason) => onDue?.(`dynamic credentials: ${reason}`) });
    const stopListening = session.onNewToken((token) => keeper.handleNewToken(token));
    return { http, session, sessionShare, keeper, stopListening };
  }

  /** Calls Vault with the session's token (once more with a new one if Vault says the token is dead); answers with the token used. */
  async function call(parts: Parts, request: VaultCall): Promise<{ response: unknown; token: SecretValue }> {
    const token = await parts.session.getToken(request.signal);
    try {
      return { response: await parts.http.call({ ...request, token }), token };
    } catch (error) {
      if (vaultFailureKind(error, 'read') !== 'denied' || !(await parts.session.handleRejected(token))) throw error;
      const fresh = await parts.session.getToken(request.signal);
      return { response: await parts.http.call({ ...request, token: fresh }), token: fresh };
    }
  }

  async function readOnce(signal: AbortSignal): Promise<Snapshot> {
    if (closed) throw new SourceUnavailableError(`${what} is closed`);
    try {
      setup ??= makeParts();
      const parts = await setup.catch((error: unknown) => {
        setup = undefined;
        throw error;
      });
      keeper = parts.keeper;
      // A certificate keeps the refresh polling: a read answers from memory until the re-issue is due, and
      // offers a certificate whose files could not be written once more.
      if (pki !== undefined) return pki.current ?? (await pki.issue((request) => call(parts, request).then(({ response }) => response), signal));
      if (last?.kind === 'dynamic' && parts.keeper.isCurrent) return last.snapshot;
      const { response, token } = await call(parts, { method: 'GET', path: config.path, signal });
      const parsed = parseSecretResponse(response, config.path, what, clock.now());
      if (parsed.lease !== undefined) parts.keeper.hold(parsed.lease, token);
      const snapshot: Snapshot = { entries: parsed.entries, version: parsed.version, updatedAt: parsed.updatedAt };
      if (last?.snapshot.version !== snapshot.version) {
        log.info({ version: snapshot.version, keys: parsed.entries.size, kind: parsed.kind }, 'read new secrets from Vault');
      }
      last = { snapshot, kind: parsed.kind };
      refresh.setPolling(parsed.kind !== 'dynamic');
      return snapshot;
    } catch (error) {
      refresh.setPolling(true);
      if (error instanceof SecretvisorError) throw error;
      throw toVaultSourceError(error, { what, action: `read ${config.path}`, address: config.address });
    }
  }

  return {
    name: config.name,
    kind: config.type,
    read(signal) {
      reading ??= readOnce(signal).finally(() => {
        reading = undefined;
      });
      return reading;
    },
    watch(callback) {
      onDue = callback;
      refresh.start();
    },
    leaseExpiresAt: () => pki?.notAfter?.getTime() ?? keeper?.expiresAt,
    async close(options) {
      if (closed) return;
      closed = true;
      onDue = undefined;
      refresh.stop();
      pki?.stop();
      const parts = await setup?.catch(() => undefined);
      if (parts === undefined) return;
      parts.stopListening();
      parts.keeper.stop();
      if (config.revokeOnExit || options?.revokeLeases === true) await parts.keeper.revokeAll();
      await parts.sessionShare.release();
    },
  };
}
