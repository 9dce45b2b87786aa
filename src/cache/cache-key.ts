import { hkdfSync } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheConfig } from '../config/config.js';
import { ConfigError, PermissionError } from '../errors.js';
import { errnoOf } from '../lib/errno.js';

const MIN_KEY_BYTES = 32;

/**
 * The 256-bit key of the last-good cache, derived (HKDF-SHA256) from the
 * operator's key file or a systemd credential — never from anything stored
 * in the cache folder. A key file others may read or write, or shorter than
 * 32 bytes, is refused.
 */
export async function loadCacheKey(config: CacheConfig, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const path = keyPath(config, env);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ConfigError(`cache: cannot open the key ${path} (${errnoOf(error) ?? 'error'})`, {
      hint: config.key.kind === 'credential' ? `load it with LoadCredentialEncrypted=${config.key.name}:… in the unit` : 'create it: head -c 32 /dev/urandom > KEYFILE; chmod 600 KEYFILE',
    });
  }
  try {
    const stats = await handle.stat();
    if ((stats.mode & 0o077) !== 0) {
      throw new PermissionError(`cache: the key ${path} has mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}: others may read it`, { hint: `chmod 600 ${path}` });
    }
    const material = await handle.readFile();
    if (material.length < MIN_KEY_BYTES) {
      throw new ConfigError(`cache: the key ${path} has ${material.length} bytes, fewer than ${MIN_KEY_BYTES}`, { hint: 'head -c 32 /dev/urandom > KEYFILE' });
    }
    return Buffer.from(hkdfSync('sha256', material, 'secretvisor-cache', 'v1 aes-256-gcm', 32));
  } finally {
    await handle.close();
  }
}

function keyPath(config: CacheConfig, env: NodeJS.ProcessEnv): string {
  if (config.key.kind === 'file') return config.key.path;
  const folder = env.CREDENTIALS_DIRECTORY;
  if (folder === undefined || folder === '') {
    throw new ConfigError(`cache.keyCredential ${config.key.name}: CREDENTIALS_DIRECTORY is not set`, { hint: `run under systemd with LoadCredentialEncrypted=${config.key.name}:…, or use keyFile:` });
  }
  return join(folder, config.key.name);
}
