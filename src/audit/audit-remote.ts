import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AwsSourceConfig, SsmSourceConfig, VaultSourceConfig } from '../config/config.js';
import { ExitCode, SecretvisorError } from '../errors.js';
import type { Logger } from '../log.js';
import { inspectSecretFile } from '../permissions/inspect-mode.js';
import { createSource } from '../sources/create-source.js';
import type { SecretSource } from '../sources/source.js';
import { fromPermission, type SourceAudit } from './audit-files.js';
import type { AuditFinding } from './audit-report.js';

/** What auditing a remote source needs besides its config. */
export interface RemoteAuditOptions {
  /** secretvisor's own environment (VAULT_ADDR, AWS_*, HOME). */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** How long the one read may take: the config's startup.timeout. */
  readonly timeoutMs: number;
}

/**
 * Audits a Vault or AWS source: the files holding its own credentials
 * (Vault token, AppRole and JWT files) by the rules for secret files, then
 * one read — as `check` does — for the secret's last change (KV metadata,
 * LastChangedDate). A read that fails is reported, never thrown; no value
 * leaves the source.
 */
export async function auditRemoteSource(config: VaultSourceConfig | AwsSourceConfig | SsmSourceConfig, options: RemoteAuditOptions): Promise<SourceAudit> {
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
  let source: SecretSource | undefined;
  try {
    source = await createSource({ config, log: options.log.child({ component: `source:${config.name}` }), env: options.env, service: undefined, pool: undefined });
    const snapshot = await source.read(AbortSignal.timeout(options.timeoutMs));
    audit.items.push({ source: config.name, kind: config.type, location, updatedAt: snapshot.updatedAt });
  } catch (error) {
    audit.items.push({ source: config.name, kind: config.type, location, updatedAt: undefined });
    audit.findings.push(unreadable(config.name, error));
  } finally {
    await source?.close().catch(() => undefined);
  }
  return audit;
}

/** Where a remote source's secret lives, for the report. */
function remoteLocation(config: VaultSourceConfig | AwsSourceConfig | SsmSourceConfig, env: NodeJS.ProcessEnv): string {
  if (config.type === 'vault') return `${config.address}/v1/${config.path}`;
  const region = config.region ?? env.AWS_REGION ?? 'default';
  if (config.type === 'aws-secrets-manager') return `aws:${region}:${config.secretId}`;
  return `aws-ssm:${region}:${config.path ?? (config.names ?? []).join(',')}`;
}

/** The local files a remote source reads its own credentials from. */
function credentialFiles(config: VaultSourceConfig | AwsSourceConfig | SsmSourceConfig, env: NodeJS.ProcessEnv): string[] {
  if (config.type !== 'vault') return [];
  const auth = config.auth;
  switch (auth.method) {
    case 'token':
      if (auth.tokenFile !== undefined) return [auth.tokenFile];
      return env.VAULT_TOKEN === undefined && env.HOME !== undefined ? [join(env.HOME, '.vault-token')] : [];
    case 'approle':
      return [auth.roleIdFile, auth.secretIdFile].filter((path): path is string => path !== undefined);
    case 'kubernetes':
      return auth.jwtFile === undefined ? [] : [auth.jwtFile];
    case 'jwt':
      return [auth.jwtFile];
    case 'aws':
      // The AWS SDK's own chain finds the credentials (instance profile, environment, profile files).
      return [];
  }
}

function unreadable(source: string, error: unknown): AuditFinding {
  const known = error instanceof SecretvisorError;
  return {
    kind: 'unreadable',
    source,
    path: undefined,
    // secretvisor's own errors name the source already.
    problem: known ? error.message : `source "${source}" could not be read: ${error instanceof Error ? error.message : String(error)}`,
    fix: known && error.hint !== undefined ? error.hint : 'run secretvisor check with --log-level debug for details',
    exitCode: known ? error.exitCode : ExitCode.failure,
  };
}
