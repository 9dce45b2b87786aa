import { stat } from 'node:fs/promises';
import { fileAccessError } from '../sources/file-access-error.js';
import type { Logger } from '../log.js';
import type { PermissionPolicy } from '../config/schema.js';
import { inspectSecretFolder } from './inspect-mode.js';
import { enforcePolicy } from './enforce-policy.js';

/** Options of {@link checkSecretFolder}. */
export interface CheckFolderOptions {
  readonly policy: PermissionPolicy;
  readonly log: Logger;
  readonly what: string;
  /** False in zero-config mode (see EnforceOptions). */
  readonly policyInConfig?: boolean | undefined;
}

/** Checks that group and others cannot write to a folder holding secret files, per policy. */
export async function checkSecretFolder(path: string, options: CheckFolderOptions): Promise<void> {
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    throw await fileAccessError(error, { what: options.what, path, kind: 'folder' });
  }
  await enforcePolicy(inspectSecretFolder(path, stats), options);
}
