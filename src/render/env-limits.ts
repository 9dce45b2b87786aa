import { SecretDataError } from '../errors.js';
import type { SecretValue } from '../secret-value.js';

/** Linux's MAX_ARG_STRLEN: the longest single `KEY=value` string exec accepts, NUL included. */
export const MAX_ENV_ENTRY_BYTES = 128 * 1024;
/** The usual ARG_MAX (a quarter of an 8 MiB stack) for argv and env together, pointers included. */
export const MAX_EXEC_BYTES = 2 * 1024 * 1024;
const POINTER_BYTES = 8;

/**
 * Refuses an environment the kernel would not exec, before trying: a NUL
 * byte in a value, one `KEY=value` of 128 KiB or more, or argv plus env over
 * ARG_MAX. Errors name the key and suggest delivering it as a file.
 */
export function validateExecSize(env: ReadonlyMap<string, SecretValue>, argv: readonly string[]): void {
  let total = argv.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1 + POINTER_BYTES, 0);
  for (const [name, value] of env) {
    if (value.reveal().includes('\0')) {
      throw new SecretDataError(`the value of ${name} contains a NUL byte, which no environment can carry`, {
        hint: `deliver ${name} as a file (files: with template {{secret.${name}}}) or store it base64-encoded`,
      });
    }
    const entryBytes = Buffer.byteLength(name) + 1 + value.byteLength + 1;
    if (entryBytes >= MAX_ENV_ENTRY_BYTES) {
      throw new SecretDataError(`${name}=… is ${entryBytes} bytes; the kernel refuses a single env entry of 128 KiB or more`, {
        hint: `deliver ${name} as a file: a files: entry with template {{secret.${name}}}, and asEnv: false on its source`,
      });
    }
    total += entryBytes + POINTER_BYTES;
  }
  if (total > MAX_EXEC_BYTES) {
    throw new SecretDataError(`the environment and command line total ${total} bytes, over the kernel's ${MAX_EXEC_BYTES}-byte limit`, {
      hint: 'deliver the largest secrets as files (files:, with asEnv: false on their sources)',
    });
  }
}
