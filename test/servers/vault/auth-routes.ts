import type { TokenStore, VaultToken } from './tokens.js';
import { denied, fail, noContent, noRoute, ok, rfc3339, type VaultReply } from './envelope.js';
import { isWrite, parseSeconds, type VaultBackend, type VaultRequest } from './request.js';

/** `auth/<mount>/login` for the approle, kubernetes and aws methods; needs no token. */
export async function handleLogin(request: VaultRequest, backend: VaultBackend, mount: string): Promise<VaultReply> {
  if (!backend.tokens.hasAuthMount(request.namespace, mount)) return noRoute(request.path);
  if (!isWrite(request.method)) return fail(405, 'unsupported operation');
  const { tokens } = backend;
  const result = tokens.isAwsMount(request.namespace, mount) ? await tokens.loginAws(request.namespace, mount, request.body) : tokens.login(request.namespace, mount, request.body);
  if ('status' in result) return fail(result.status, result.error);
  return ok({ auth: getAuthBlock(result.token, backend.tokens) });
}

/** `auth/token/lookup-self`, `renew-self` and `revoke-self`, for an already checked token. */
export function handleTokenSelf(request: VaultRequest, backend: VaultBackend, token: VaultToken): VaultReply {
  const { tokens } = backend;
  switch (request.path) {
    case 'auth/token/lookup-self':
      return request.method === 'GET' ? ok({ data: getLookupData(token, tokens) }) : fail(405, 'unsupported operation');
    case 'auth/token/renew-self': {
      if (!isWrite(request.method)) return fail(405, 'unsupported operation');
      if (!token.renewable || token.expiresAt === undefined) return fail(400, 'lease is not renewable');
      const { warnings } = tokens.renew(token, parseSeconds(request.body.increment));
      return ok({ auth: getAuthBlock(token, tokens), warnings });
    }
    case 'auth/token/revoke-self':
      if (!isWrite(request.method)) return fail(405, 'unsupported operation');
      tokens.revoke(token.id);
      return noContent();
    default:
      return request.path.startsWith('auth/token/') ? denied() : noRoute(request.path);
  }
}

/** The `auth` block of a login or renewal response. */
function getAuthBlock(token: VaultToken, tokens: TokenStore): Record<string, unknown> {
  return {
    client_token: token.id,
    accessor: token.accessor,
    policies: token.policies,
    token_policies: token.policies,
    metadata: token.meta,
    lease_duration: tokens.ttlOf(token),
    renewable: token.renewable,
    entity_id: '',
    token_type: 'service',
    orphan: true,
    mfa_requirement: null,
    num_uses: 0,
  };
}

/** The `data` block of `auth/token/lookup-self`. */
function getLookupData(token: VaultToken, tokens: TokenStore): Record<string, unknown> {
  return {
    accessor: token.accessor,
    creation_time: Math.floor(token.issuedAt / 1000),
    creation_ttl: token.creationTtl,
    display_name: token.path.startsWith('auth/token/') ? 'token' : token.path.split('/')[1],
    entity_id: '',
    expire_time: token.expiresAt === undefined ? null : rfc3339(token.expiresAt),
    explicit_max_ttl: 0,
    id: token.id,
    issue_time: rfc3339(token.issuedAt),
    last_renewal: token.lastRenewalAt === undefined ? undefined : rfc3339(token.lastRenewalAt),
    meta: token.meta,
    num_uses: 0,
    orphan: true,
    path: token.path,
    policies: token.policies,
    renewable: token.renewable,
    ttl: tokens.ttlOf(token),
    type: 'service',
  };
}
