// secretvisor's own credentials and service-manager plumbing: the child gets
// none of them unless the config's env: maps one in on purpose.
const OWN_PREFIXES = ['VAULT_', 'SECRETVISOR_', 'WATCHDOG_', 'LISTEN_'];
const OWN_NAMES = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'NOTIFY_SOCKET',
  'CREDENTIALS_DIRECTORY',
]);

/** True for a variable of secretvisor's own that the child must not inherit. */
export function isOwnCredential(name: string): boolean {
  return OWN_NAMES.has(name) || OWN_PREFIXES.some((prefix) => name.startsWith(prefix));
}
