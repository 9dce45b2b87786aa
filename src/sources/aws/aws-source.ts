import type { AwsSourceConfig } from '../../config/config.js';
import { SourceUnavailableError } from '../../errors.js';
import { RefreshTimer } from '../refresh-timer.js';
import type { SecretSource, Snapshot, SourceContext } from '../source.js';
import { acquireClient, type ClientLease } from './aws-client.js';
import { toAwsSourceError } from './aws-errors.js';
import { holdClient } from './held-client.js';
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
  let last: Snapshot | undefined;
  let onDue: ((reason: string) => void) | undefined;
  const refresh = new RefreshTimer({ clock: context.clock, refreshMs: config.refreshMs, onDue: (reason) => onDue?.(reason) });

  const aws = holdClient<ClientLease>({
    acquire: () =>
      acquireClient({
        region: config.region,
        endpoint: config.endpoint,
        roleArn: config.roleArn,
        externalId: config.externalId,
        sessionName: getRoleSessionName(context.service, context.pool),
        maxResponseBytes: config.maxResponseBytes,
      }),
    log,
    toError: (operation, error) => toAwsSourceError(error, { source: config.name, secretId: config.secretId, operation }),
  });

  return {
    name: config.name,
    kind: config.type,

    async read(signal: AbortSignal): Promise<Snapshot> {
      const described = await aws.call('DescribeSecret', ({ client, sdk }) => client.send(new sdk.DescribeSecretCommand({ SecretId: config.secretId }), { abortSignal: signal }));
      if (described.DeletedDate !== undefined) {
        // DescribeSecret still answers, with the same VersionId, for a secret scheduled for deletion:
        // without this check the source would go on serving it, unchanged, and nobody would hear of it.
        throw new SourceUnavailableError(`aws-secrets-manager source "${config.name}": secret "${config.secretId}" is scheduled for deletion (since ${described.DeletedDate.toISOString()})`, {
          hint: 'cancel the deletion with `aws secretsmanager restore-secret` (RestoreSecret), or point `secretId` at the secret that replaces it',
        });
      }
      const versionId = findVersionWithStage(described.VersionIdsToStages, config.versionStage);
      if (versionId === undefined) {
        throw new SourceUnavailableError(`aws-secrets-manager source "${config.name}": no version of secret "${config.secretId}" holds stage ${config.versionStage}`, {
          hint: "check `versionStage` (default AWSCURRENT) against the labels the secret's versions carry",
        });
      }
      const updatedAt = described.LastChangedDate;
      if (last !== undefined && last.version === versionId) {
        log.debug({ version: versionId }, 'aws secret unchanged');
        last = { ...last, updatedAt };
        return last;
      }
      const value = await aws.call('GetSecretValue', ({ client, sdk }) =>
        client.send(new sdk.GetSecretValueCommand({ SecretId: config.secretId, VersionId: versionId }), {
          abortSignal: signal,
        }),
      );
      const entries = mapSecretValue({ secretString: value.SecretString, secretBinary: value.SecretBinary }, { source: config.name, secretId: config.secretId, key: config.key });
      log.info({ version: versionId, previous: last?.version, keys: entries.size }, 'aws secret version read');
      last = { entries, version: versionId, updatedAt };
      return last;
    },

    watch(callback: (reason: string) => void): void {
      onDue = callback;
      refresh.start();
    },

    async close(): Promise<void> {
      onDue = undefined;
      refresh.stop();
      await aws.release();
    },
  };
}
