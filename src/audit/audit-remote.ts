import { stat } from 'node:fs/promises';
import type { AwsSourceConfig, SsmSourceConfig, VaultSourceConfig } from '../config/config.js';
import { inspectSecretFile } from '../permissions/inspect-mode.js';
import { fromPermission, type SourceAudit } from './audit-files.js';
import { readSource, type ReadOptions } from './read-source.js';
import { getTokenPlace } from '../sources/vault/vault-credentials.js';

/**
 * Audits a Vault or AWS source: the files holding its own credentials
 * (Vault token, AppRole and JWT files) by the rules for secret files, then
 * one read — as `check` does — for the secret's last change (KV metadata,
 * LastChangedDate) and the soundness of its data. A read that fails is
 * reported, never thrown; no value leaves the source.
 */
export async function auditRemoteSource(config: VaultSourceConfig | AwsSourceConfig | SsmSourceConfig, options: ReadOptions): Promise<SourceAudit> {
  const audit: SourceAudit = { items: [], findings: [] };
  for (const path of credentialFiles(config, options.env)) {
    const stats = await stat(path).catch(() => undefined);
    if (stats !== undefined) audit.findings.push(...inspectSecretFile(path, stats).map((finding) => fromPermission(finding, config.name)));
  }
  const location = remoteLocation(config, options.env);
  if (audit.findings.length > 0) {
    // Reading would only repeat these findings as an error: fix the files first.
    audit.items.push({ source: config.name, kind: config.type, location, updatedAt: undefined });
    return audit;
  }
  const verdict = await readSource(config, options);
  audit.items.push({ source: config.name, kind: config.type, location, updatedAt: 'updatedAt' in verdict ? verdict.updatedAt : undefined });
  if ('finding' in verdict) audit.findings.push(verdict.finding);
  return audit;
}

/** Where a remote source's secret lives, for the report. */
function remoteLocation(config: VaultSourceConfig | AwsSourceConfig | SsmSourceConfig, env: NodeJS.ProcessEnv): string {
  if (config.type === 'vault') return `${config.address}/v1/${config.path}`;
  const region = config.region ?? env.AWS_REGION ?? 'default';
  if (config.type === 'aws-secrets-manager') return `aws:${region}:${config.secretId}`;
  return `aws-ssm:${region}:${config.path ?? (config.names ?? []).join(',')}`;
}

/** The local files a remote source reads its own credentials from: those the source itself would read. */
function credentialFiles(config: VaultSourceConfig | AwsSourceConfig | SsmSourceConfig, env: NodeJS.ProcessEnv): string[] {
  if (config.type !== 'vault') return [];
  const auth = config.auth;
  switch (auth.method) {
    case 'token': {
      const place = getTokenPlace(auth, env);
      return place.kind === 'env' ? [] : [place.path];
    }
    case 'approle':
      return [auth.roleIdFile, auth.secretIdFile].filter((path): path is string => path !== undefined);
    case 'kubernetes':
    case 'jwt':
      return [auth.jwtFile];
    case 'aws':
      // The AWS SDK's own chain finds the credentials (instance profile, environment, profile files).
      return [];
  }
}
