import type { AwsSourceConfig } from '../../config/config.js';
import { SourceUnavailableError } from '../../errors.js';
import type { SecretSource, Snapshot, SourceContext } from '../source.js';
import { acquireClient, type ClientLease } from './aws-client.js';
import { isExpiredCredentialsError, toSourceError } from './aws-errors.js';
import { startRefreshTimer, type RefreshTimer } from './refresh-timer.js';
import { getRoleSessionName } from './role-session-name.js';
import { mapSecretValue } from './secret-values.js';
import { findVersionWithStage } from './version-stage.js';

/**
 * An AWS Secrets Manager secret as a source. Each read first asks
 * DescribeSecret which VersionId holds `versionStage` (no secret value
 * travels); only when that differs from the last version read does it call
 * GetSecretValue, pinned to that VersionId. The snapshot's version is the
 * VersionId and its `updatedAt` the secret's LastChangedDate.
 */
export function createAwsSource(context: SourceContext<AwsSourceConfig>): SecretSource {
  const { config } = context;
  const log = context.log.child({ source: config.name, secretId: config.secretId });
  let lease: Promise<ClientLease> | undefined;
  let last: Snapshot | undefined;
  let timer: RefreshTimer | undefined;

  const getLease = (): Promise<ClientLease> => {
    lease ??= acquireClient({
      region: config.region,
      endpoint: config.endpoint,
      roleArn: config.roleArn,
      externalId: config.externalId,
      sessionName: getRoleSessionName(context.service, context.pool),
    }).catch((error: unknown) => {
      lease = undefined;
      throw error;
    });
    return lease;
  };

  const call = async <T>(operation: string, send: (held: ClientLease) => Promise<T>): Promise<T> => {
    const leased = getLease();
    const held = await leased.catch((error: unknown) => {
      throw toSourceError(error, { source: config.name, secretId: config.secretId, operation });
    });
    try {
      return await send(held);
    } catch (error) {
      if (isExpiredCredentialsError(error) && lease === leased) {
        // The SDK still trusts its cached credentials; a new client asks for fresh ones on the next read.
        log.warn({ operation }, 'AWS says the credentials expired; the next read starts with fresh ones');
        lease = undefined;
        held.discard();
      }
      throw toSourceError(error, { source: config.name, secretId: config.secretId, operation });
    }
  };

  return {
    name: config.name,
    kind: config.type,

    async read(signal: AbortSignal): Promise<Snapshot> {
      const described = await call('DescribeSecret', ({ client, sdk }) =>
        client.send(new sdk.DescribeSecretCommand({ SecretId: config.secretId }), { abortSignal: signal }),
      );
      if (described.DeletedDate !== undefined) {
        // DescribeSecret still answers, with the same VersionId, for a secret scheduled for deletion:
        // without this check the source would go on serving it, unchanged, and nobody would hear of it.
        throw new SourceUnavailableError(
          `aws-secrets-manager source "${config.name}": secret "${config.secretId}" is scheduled for deletion (since ${described.DeletedDate.toISOString()})`,
          { hint: 'cancel the deletion with `aws secretsmanager restore-secret` (RestoreSecret), or point `secretId` at the secret that replaces it' },
        );
      }
      const versionId = findVersionWithStage(described.VersionIdsToStages, config.versionStage);
      if (versionId === undefined) {
        throw new SourceUnavailableError(
          `aws-secrets-manager source "${config.name}": no version of secret "${config.secretId}" holds stage ${config.versionStage}`,
          { hint: 'check `versionStage` (default AWSCURRENT) against the labels the secret\'s versions carry' },
        );
      }
      const updatedAt = described.LastChangedDate;
      if (last !== undefined && last.version === versionId) {
        log.debug({ version: versionId }, 'aws secret unchanged');
        last = { ...last, updatedAt };
        return last;
      }
      const value = await call('GetSecretValue', ({ client, sdk }) =>
        client.send(new sdk.GetSecretValueCommand({ SecretId: config.secretId, VersionId: versionId }), {
          abortSignal: signal,
        }),
      );
      const entries = mapSecretValue(
        { secretString: value.SecretString, secretBinary: value.SecretBinary },
        { source: config.name, secretId: config.secretId, key: config.key },
      );
      log.info({ version: versionId, previous: last?.version, keys: entries.size }, 'aws secret version read');
      last = { entries, version: versionId, updatedAt };
      return last;
    },

    watch(onDue: (reason: string) => void): void {
      timer?.stop();
      timer = startRefreshTimer({ intervalMs: config.refreshMs, onDue: () => onDue('refresh') });
    },

    async close(): Promise<void> {
      timer?.stop();
      timer = undefined;
      const held = lease;
      lease = undefined;
      if (held !== undefined) (await held.catch(() => undefined))?.release();
    },
  };
}
