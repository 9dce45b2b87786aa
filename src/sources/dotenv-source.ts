import { dirname } from 'node:path';
import type { DotenvSourceConfig } from '../config/config.js';
import { SecretValue } from '../secret-value.js';
import { readSecretFile } from './read-secret-file.js';
import { parseDotenv } from './parse-dotenv.js';
import { digestEntries } from './content-digest.js';
import { watchFileSource } from './watch-file-source.js';
import { checkSecretFolder } from '../permissions/check-folder.js';
import type { SecretSource, Snapshot, SourceContext } from './source.js';

/** A KEY=value file, permission-checked on every read and watched for changes. */
export function createDotenvSource(context: SourceContext<DotenvSourceConfig>): SecretSource {
  const { config, log } = context;
  const what = `source "${config.name}"`;

  return {
    name: config.name,
    kind: config.type,
    async read(): Promise<Snapshot> {
      const policyInConfig = context.zeroConfig !== true;
      const file = await readSecretFile(config.path, { policy: config.permissions, log, what, policyInConfig });
      await checkSecretFolder(dirname(config.path), { policy: config.permissions, log, what, policyInConfig });
      const parsed = parseDotenv(file.value.reveal(), `${what} (${config.path})`);
      const entries = new Map([...parsed].map(([key, value]) => [key, new SecretValue(value)] as const));
      return { entries, version: digestEntries(entries), updatedAt: file.stats.mtime };
    },
    ...watchFileSource({ path: config.path, kind: 'file', refreshMs: config.refreshMs, clock: context.clock, log }),
  };
}
