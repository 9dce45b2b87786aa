import { isGranted, type Principal } from './identities.js';
import type { SecretStore, StoredSecret, StoredVersion } from './secret-store.js';

/** What one API call answers, before it is written to the wire. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly errorCode: string | undefined;
  readonly valuesTransferred: number;
  readonly targets: readonly string[];
}

/** The JSON 1.1 error body `{"__type", "message"}` with its HTTP status. */
export function jsonError(status: number, type: string, message: string, targets: readonly string[] = []): ApiAnswer {
  return { status, body: { __type: type, message }, errorCode: type, valuesTransferred: 0, targets };
}

const BATCH_LIMIT = 20;

/**
 * Answers one Secrets Manager JSON 1.1 call (`X-Amz-Target: secretsmanager.<action>`)
 * for an authenticated principal, following the API reference's shapes and errors.
 */
export function handleSecretsManager(action: string, input: Readonly<Record<string, unknown>>, principal: Principal, store: SecretStore): ApiAnswer {
  switch (action) {
    case 'DescribeSecret':
      return describeSecret(input, principal, store);
    case 'GetSecretValue':
      return getSecretValue(input, principal, store);
    case 'BatchGetSecretValue':
      return batchGetSecretValue(input, principal, store);
    default:
      return jsonError(400, 'UnknownOperationException', `The action ${action} is not valid for this web service.`);
  }
}

function describeSecret(input: Readonly<Record<string, unknown>>, principal: Principal, store: SecretStore): ApiAnswer {
  const found = lookUp(input.SecretId, 'DescribeSecret', principal, store);
  if ('status' in found) return found;
  const { secret } = found;
  const versionIdsToStages = Object.fromEntries([...secret.versions.values()].filter((v) => v.stages.size > 0).map((v) => [v.versionId, [...v.stages]]));
  return ok(
    {
      ARN: secret.arn,
      Name: secret.name,
      CreatedDate: epochSeconds(secret.createdAt),
      LastChangedDate: epochSeconds(secret.lastChangedAt),
      VersionIdsToStages: versionIdsToStages,
    },
    [secret.name],
    0,
  );
}

function getSecretValue(input: Readonly<Record<string, unknown>>, principal: Principal, store: SecretStore): ApiAnswer {
  const found = lookUp(input.SecretId, 'GetSecretValue', principal, store);
  if ('status' in found) return found;
  const { secret } = found;
  const versionId = typeof input.VersionId === 'string' ? input.VersionId : undefined;
  const stage = typeof input.VersionStage === 'string' ? input.VersionStage : undefined;
  const version = versionId === undefined ? store.versionWithStage(secret, stage ?? 'AWSCURRENT') : secret.versions.get(versionId);
  if (version === undefined || (stage !== undefined && !version.stages.has(stage))) {
    const what = versionId === undefined ? `staging label: ${stage ?? 'AWSCURRENT'}` : `VersionId: ${versionId}`;
    return jsonError(400, 'ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}`, [secret.name]);
  }
  return ok(valueEntry(secret, version), [secret.name], 1);
}

function batchGetSecretValue(input: Readonly<Record<string, unknown>>, principal: Principal, store: SecretStore): ApiAnswer {
  const ids = input.SecretIdList;
  if (!Array.isArray(ids) || input.Filters !== undefined) {
    return jsonError(400, 'InvalidParameterException', 'This test server supports SecretIdList only.');
  }
  if (ids.length === 0 || ids.length > BATCH_LIMIT) {
    return jsonError(400, 'InvalidParameterException', `SecretIdList must hold 1 to ${BATCH_LIMIT} secrets.`);
  }
  const values: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  for (const id of ids) {
    const found = lookUp(id, 'GetSecretValue', principal, store);
    const current = 'status' in found ? undefined : store.versionWithStage(found.secret, 'AWSCURRENT');
    if ('status' in found || current === undefined) {
      const code = 'status' in found ? found.errorCode : 'ResourceNotFoundException';
      const message = 'status' in found ? String(found.body.message) : 'No version holds AWSCURRENT.';
      errors.push({ SecretId: String(id), ErrorCode: code, Message: message });
    } else {
      values.push(valueEntry(found.secret, current));
    }
  }
  return ok({ SecretValues: values, Errors: errors }, ids.map(String), values.length);
}

function lookUp(id: unknown, action: string, principal: Principal, store: SecretStore): { readonly secret: StoredSecret } | ApiAnswer {
  if (typeof id !== 'string' || id.length === 0) {
    return jsonError(400, 'InvalidParameterException', 'SecretId is required.');
  }
  const secret = store.find(id);
  if (!isGranted(principal.secrets, secret?.name ?? id)) {
    return jsonError(
      400,
      'AccessDeniedException',
      `User: ${principal.arn} is not authorized to perform: secretsmanager:${action} on resource: ${id} because no identity-based policy allows the secretsmanager:${action} action`,
      [id],
    );
  }
  if (secret === undefined) {
    return jsonError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.", [id]);
  }
  return { secret };
}

function valueEntry(secret: StoredSecret, version: StoredVersion): Record<string, unknown> {
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    ...(version.secretString === undefined ? {} : { SecretString: version.secretString }),
    ...(version.secretBinary === undefined ? {} : { SecretBinary: Buffer.from(version.secretBinary).toString('base64') }),
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdAt),
  };
}

function ok(body: Readonly<Record<string, unknown>>, targets: readonly string[], valuesTransferred: number): ApiAnswer {
  return { status: 200, body, errorCode: undefined, valuesTransferred, targets };
}

/** JSON 1.1 timestamps are epoch seconds, with a fraction. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
