import { open, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { SecretDataError, SourceUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PermissionPolicy } from '../config/schema.js';
import { currentUid, inspectSecretFile, type PermissionFinding } from '../permissions/inspect-mode.js';
import { walkTrustedPath, type PathWalk, type WalkCache } from '../permissions/trusted-path.js';
import { enforcePolicy } from '../permissions/enforce-policy.js';
import { SecretValue } from '../secret-value.js';
import { fileAccessError } from '../permissions/file-access-error.js';
import { errnoOf } from '../lib/errno.js';

/** Largest secret file secretvisor reads (SPEC: over 1 MiB is refused). */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** Options of {@link readSecretFile}. */
export interface ReadSecretFileOptions {
  readonly policy: PermissionPolicy;
  readonly log: Logger;
  /** Says whose file this is in errors, e.g. `source "creds"`. */
  readonly what: string;
  /** Folders already checked in this read of the source. */
  readonly cache?: WalkCache;
  /** False in zero-config mode (see EnforceOptions). */
  readonly policyInConfig?: boolean | undefined;
}

/** A secret file's content and the stats of the file actually read. */
export interface SecretFile {
  readonly value: SecretValue;
  readonly stats: Stats;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a secret file safely: checks every folder on the way to it (see
 * walkTrustedPath), opens it (following symlinks, as Kubernetes mounts
 * need), checks the mode and owner of the opened descriptor — so a swap
 * between check and read cannot fool it — per `policy`, refuses files over
 * 1 MiB and content that is not UTF-8.
 */
export async function readSecretFile(path: string, options: ReadSecretFileOptions): Promise<SecretFile> {
  const walk = await walkTrustedPath(path, { includeLast: false, cache: options.cache });
  await enforcePolicy(walk.findings, options);
  const handle = await openForReading(path, options.what);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new SecretDataError(`${options.what}: ${path} is not a regular file`, { hint: 'point the source at a file' });
    }
    await enforcePolicy(limitFix(inspectSecretFile(path, stats), stats, walk), {
      policy: options.policy,
      log: options.log,
      policyInConfig: options.policyInConfig,
      applyMode: (mode) => handle.chmod(mode),
    });
    if (stats.size > MAX_SECRET_FILE_BYTES) {
      throw tooLarge(path, options.what);
    }
    const bytes = await readContent(handle, stats.size);
    if (bytes.length > MAX_SECRET_FILE_BYTES) throw tooLarge(path, options.what);
    return { value: new SecretValue(decodeUtf8(bytes, path, options.what)), stats };
  } finally {
    await handle.close();
  }
}

// `fix` changes only a file secretvisor's user owns, reached without a link
// (a dotenv path linked to /etc/shadow must not make it 0600), and names the
// file it changes by its real path.
function limitFix(findings: PermissionFinding[], stats: Stats, walk: PathWalk): PermissionFinding[] {
  return findings.map((finding) => {
    if (finding.safeMode === undefined) return finding;
    if (walk.finalLinked) {
      return {
        ...finding,
        safeMode: undefined,
        fix: `${finding.fix.replace(`'${finding.path}'`, `'${walk.realPath}'`)} (permissions: fix never changes a file through a symlink: ${finding.path} links to ${walk.realPath})`,
      };
    }
    if (stats.uid !== currentUid()) return { ...finding, safeMode: undefined };
    return { ...finding, path: walk.realPath };
  });
}

// One read() on the descriptor already checked: a buffer one byte larger than
// fstat's size shows EOF at once (readFile's fstat and EOF read were two more
// thread-pool trips per file). A file that grew since the fstat, or reports
// size 0 as /proc files do, is read whole the usual way (it reads from offset
// 0: a positional read leaves the file position alone).
async function readContent(handle: FileHandle, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size + 1);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  if (bytesRead <= size) return buffer.subarray(0, bytesRead);
  return handle.readFile();
}

async function openForReading(path: string, what: string) {
  try {
    // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer — forever,
    // holding a thread that even process exit waits for. No effect on regular files.
    return await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'EMFILE' || code === 'ENFILE') {
      throw new SourceUnavailableError(`${what}: cannot open ${path}: too many open files (${code})`, {
        hint: 'raise the open-file limit (ulimit -n, or LimitNOFILE= in the unit); secretvisor itself opens at most 32 secret files at a time',
        cause: error,
      });
    }
    if (code === 'ELOOP') {
      throw new SecretDataError(`${what}: ${path} is a symlink loop`, { hint: 'fix the link', cause: error });
    }
    throw await fileAccessError(error, { what, path, kind: 'file' });
  }
}

function tooLarge(path: string, what: string): SecretDataError {
  return new SecretDataError(`${what}: ${path} is larger than 1 MiB`, {
    hint: 'a secret this large belongs in a file the service reads itself; split it or deliver it with files:',
  });
}

function decodeUtf8(bytes: Buffer, path: string, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SecretDataError(`${what}: ${path} is not valid UTF-8 text`, {
      hint: 'store binary secrets base64-encoded',
    });
  }
}
