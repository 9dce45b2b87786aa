const MAX_LENGTH = 64;
const NOT_ALLOWED = /[^\w+=,.@-]/g;

/**
 * The RoleSessionName for assume-role calls: `secretvisor`, then the service
 * and pool, so CloudTrail in the role's account shows who read a secret.
 * Characters STS refuses become `-`; the result stays within STS's 64 characters.
 */
export function getRoleSessionName(service: string | undefined, pool: string | undefined): string {
  const parts = ['secretvisor', service, pool].filter((part): part is string => part !== undefined && part !== '');
  return parts.join('-').replace(NOT_ALLOWED, '-').slice(0, MAX_LENGTH);
}
