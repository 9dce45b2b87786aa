import { randomUUID } from 'node:crypto';
import type { IdentityRegistry, Principal } from './identities.js';
import { isGranted } from './identities.js';

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;
const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43_200;

/** What one STS Query call answers: an XML document and what the request log needs. */
export interface StsAnswer {
  readonly status: number;
  readonly xml: string;
  readonly errorCode: string | undefined;
  readonly targets: readonly string[];
  readonly roleSessionName: string | undefined;
}

/** The Query protocol's `<ErrorResponse>` with its HTTP status (`Sender` for 4xx, `Receiver` for 5xx). */
export function stsError(status: number, code: string, message: string, targets: readonly string[] = []): StsAnswer {
  const xml =
    `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
    `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>` +
    `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  return { status, xml, errorCode: code, targets, roleSessionName: undefined };
}

/**
 * Answers one STS Query call (a form POST) for an authenticated caller:
 * `GetCallerIdentity` names the caller (what Vault's aws auth asks);
 * `AssumeRole` checks the role's trust (who may assume it, and its
 * ExternalId condition) and the session name, then issues credentials.
 */
export function handleSts(params: URLSearchParams, caller: Principal, identities: IdentityRegistry): StsAnswer {
  const action = params.get('Action') ?? '';
  if (action === 'GetCallerIdentity') return getCallerIdentity(caller);
  if (action !== 'AssumeRole') {
    return stsError(400, 'InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? ''}`);
  }
  const roleArn = params.get('RoleArn') ?? '';
  const sessionName = params.get('RoleSessionName') ?? '';
  const targets = [roleArn];
  if (!SESSION_NAME_PATTERN.test(sessionName)) {
    return stsError(
      400,
      'ValidationError',
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      targets,
    );
  }
  const duration = Number(params.get('DurationSeconds') ?? MIN_DURATION_SECONDS);
  if (!Number.isInteger(duration) || duration < MIN_DURATION_SECONDS || duration > MAX_DURATION_SECONDS) {
    return stsError(400, 'ValidationError', `DurationSeconds must be between ${MIN_DURATION_SECONDS} and ${MAX_DURATION_SECONDS}.`, targets);
  }
  const role = identities.role(roleArn);
  const trusted = role !== undefined && caller.user !== undefined && isGranted(caller.user.canAssume ?? '*', roleArn);
  const externalIdMatches = role?.externalId === undefined || params.get('ExternalId') === role.externalId;
  if (role === undefined || !trusted || !externalIdMatches) {
    return stsError(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, targets);
  }
  const { principal, assumedRoleId } = identities.issueSession(role, sessionName);
  const xml =
    `<AssumeRoleResponse xmlns="${STS_NAMESPACE}"><AssumeRoleResult>` +
    `<AssumedRoleUser><Arn>${escapeXml(principal.arn)}</Arn><AssumedRoleId>${escapeXml(assumedRoleId)}</AssumedRoleId></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${principal.accessKeyId}</AccessKeyId>` +
    `<SecretAccessKey>${escapeXml(principal.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${escapeXml(principal.sessionToken ?? '')}</SessionToken>` +
    `<Expiration>${isoSeconds(principal.expiresAt ?? Date.now())}</Expiration></Credentials>` +
    `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
  return { status: 200, xml, errorCode: undefined, targets, roleSessionName: sessionName };
}

function getCallerIdentity(caller: Principal): StsAnswer {
  const account = caller.arn.split(':')[4] ?? '';
  const xml =
    `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}"><GetCallerIdentityResult>` +
    `<Arn>${escapeXml(caller.arn)}</Arn><UserId>${escapeXml(caller.accessKeyId)}</UserId><Account>${escapeXml(account)}</Account>` +
    `</GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
  return { status: 200, xml, errorCode: undefined, targets: [], roleSessionName: undefined };
}

function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}
