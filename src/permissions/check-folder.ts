import { stat } from 'node:fs/promises';
import { fileAccessError } from './file-access-error.js';
import type { Logger } from '../log.js';
import type { PermissionPolicy } from '../config/schema.js';
import { walkTrustedPath, type WalkCache } from './trusted-path.js';
import { enforcePolicy } from './enforce-policy.js';

/** Options of {@link checkSecretFolder}. */
export interface CheckFolderOptions {
  readonly policy: PermissionPolicy;
  readonly log: Logger;
  readonly what: string;
  /** Folders already checked in this read. */
  readonly cache?: WalkCache;
  /** False in zero-config mode (see EnforceOptions). */
  readonly policyInConfig?: boolean | undefined;
}

/** Checks, per policy, that a folder holding secret files and every folder above it are safe from other users (see walkTrustedPath). */
export async function checkSecretFolder(path: string, options: CheckFolderOptions): Promise<void> {
  try {
    await stat(path);
  } catch (error) {
    throw await fileAccessError(error, { what: options.what, path, kind: 'folder' });
  }
  await enforcePolicy((await walkTrustedPath(path, { includeLast: true, cache: options.cache })).findings, options);
}
