/** Env names as the kernel and shells accept them: letters, digits and _, not starting with a digit. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Env names as the kernel and shells accept them. */
export function isValidEnvName(name: string): boolean {
  return ENV_NAME_PATTERN.test(name);
}
