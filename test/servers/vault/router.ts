import { denied, noRoute, ok, fail, type VaultReply } from './envelope.js';
import { handleLogin, handleTokenSelf } from './auth-routes.js';
import { handleLeasePath, handleSecretPath } from './secret-routes.js';
import type { VaultBackend, VaultRequest } from './request.js';

const LEASE_PATH = /^sys\/(leases\/)?(renew|revoke|lookup)(\/|$)/;

/**
 * Answers one API request as Vault would once faults are out of the way:
 * health and logins need no token, everything else needs a live token valid
 * in the request's namespace. Only an aws login answers later: it waits for STS.
 */
export function routeRequest(request: VaultRequest, backend: VaultBackend, sealed: boolean): VaultReply | Promise<VaultReply> {
  if (request.path === 'sys/health') return getHealth(sealed);
  if (sealed) return fail(503, 'Vault is sealed');
  if (request.namespace !== '' && !backend.namespaces.has(request.namespace)) return denied();
  const login = /^auth\/(.+)\/login$/.exec(request.path);
  if (login !== null && login[1] !== 'token') return handleLogin(request, backend, login[1] as string);
  const token = backend.tokens.lookup(request.token, request.namespace);
  if (token === undefined) return denied();
  if (request.path.startsWith('auth/')) return handleTokenSelf(request, backend, token);
  if (request.path.startsWith('sys/')) {
    return LEASE_PATH.test(request.path) ? handleLeasePath(request, backend.secrets) : noRoute(request.path);
  }
  const mount = request.path.split('/')[0] as string;
  const type = backend.mounts.get(mount);
  if (type === undefined) return noRoute(request.path);
  return handleSecretPath(request, backend.secrets, mount, type);
}

/** `sys/health`: 200 when active and unsealed, 503 when sealed, always with the status body. */
function getHealth(sealed: boolean): VaultReply {
  const body = {
    initialized: true,
    sealed,
    standby: false,
    performance_standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(Date.now() / 1000),
    version: '1.17.0',
    cluster_name: 'vault-cluster-test',
    cluster_id: '00000000-0000-0000-0000-000000000000',
  };
  return sealed ? { status: 503, body } : { ...ok({}), body };
}
