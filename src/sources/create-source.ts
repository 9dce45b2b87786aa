import type { SourceConfig } from '../config/config.js';
import type { SecretSource, SourceContext } from './source.js';
import { createDotenvSource } from './dotenv-source.js';
import { createDirectorySource } from './directory-source.js';
import { whenCoreDumpsDisabled } from '../hardening/core-dumps.js';
import { assertNever } from '../lib/assert-never.js';

/**
 * Makes the source a config entry describes. Remote clients (Vault, AWS) are
 * imported here, lazily, so a config without them never loads their code.
 */
export async function createSource(context: SourceContext): Promise<SecretSource> {
  // Every secret is read through a source: none before core dumps are off.
  await whenCoreDumpsDisabled(context.log);
  const config: SourceConfig = context.config;
  switch (config.type) {
    case 'dotenv':
      return createDotenvSource({ ...context, config });
    case 'directory':
      return createDirectorySource({ ...context, config });
    case 'vault': {
      const { createVaultSource } = await import('./vault/vault-source.js');
      return createVaultSource({ ...context, config });
    }
    case 'aws-secrets-manager': {
      const { createAwsSource } = await import('./aws/aws-source.js');
      return createAwsSource({ ...context, config });
    }
    case 'aws-ssm': {
      const { createSsmSource } = await import('./aws/ssm-source.js');
      return createSsmSource({ ...context, config });
    }
    default:
      return assertNever(config, 'unknown source kind');
  }
}
