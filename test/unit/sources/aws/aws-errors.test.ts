import { describe, expect, it } from 'vitest';
import { ConfigError, SecretDataError } from '../../../../src/errors.js';
import { AssumeRoleError } from '../../../../src/sources/aws/aws-client.js';
import { awsFailureKind, toAwsSourceError } from '../../../../src/sources/aws/aws-errors.js';
import { expectNoLeak, randomSecret } from '../../../helpers/secrets.js';

const site = { source: 'finance', secretId: 'noxus/pools/finance', operation: 'DescribeSecret' };

function serviceError(name: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, syscall: 'connect' });
}

describe('toAwsSourceError', () => {
  it.each([
    [serviceError('ThrottlingException', 400, 'Rate exceeded'), 'ThrottlingException (HTTP 400): Rate exceeded', 'refresh', 69],
    [serviceError('InternalServiceError', 500, 'oops'), 'InternalServiceError (HTTP 500)', 'retries', 69],
    [serviceError('ResourceNotFoundException', 400, 'not found'), 'ResourceNotFoundException', 'secretId', 66],
    [serviceError('AccessDeniedException', 400, 'denied'), 'AccessDeniedException', 'secretsmanager:GetSecretValue', 77],
    [serviceError('ExpiredTokenException', 400, 'expired'), 'ExpiredTokenException', 'expired', 69],
    [serviceError('UnrecognizedClientException', 400, 'invalid'), 'UnrecognizedClientException', 'AWS_ACCESS_KEY_ID', 77],
    [systemError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'), 'ECONNREFUSED: connect ECONNREFUSED', 'reach the endpoint', 69],
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'CredentialsProviderError', 'default chain', 69],
    [serviceError('MissingAuthenticationTokenException', 400, 'missing'), 'MissingAuthenticationTokenException', 'AWS_ACCESS_KEY_ID', 69],
    [serviceError('SignatureDoesNotMatch', 403, 'signature'), 'SignatureDoesNotMatch', 'AWS_ACCESS_KEY_ID', 77],
    [serviceError('ServiceUnavailable', 503, 'unavailable'), 'ServiceUnavailable (HTTP 503)', 'retries', 69],
    [systemError('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:443'), 'ETIMEDOUT', 'reach the endpoint', 69],
  ])('names the AWS code of %s with a hint and its exit code', (error, text, hint, code) => {
    const converted = toAwsSourceError(error, site);
    // Denied (77) and not found (66) are reported at once; the rest is an outage, retried (69).
    expect(converted.exitCode).toBe(code);
    expect(converted.message).toBe(`aws-secrets-manager source "finance": DescribeSecret for secret "noxus/pools/finance" failed: ${converted.message.split('failed: ')[1]}`);
    expect(converted.message).toContain(text);
    expect(converted.hint).toContain(hint);
    expect(converted.cause).toBeUndefined();
  });

  it('says which role could not be assumed, with the trust-policy hint', () => {
    const converted = toAwsSourceError(new AssumeRoleError('arn:aws:iam::1:role/r', serviceError('AccessDenied', 403, 'not authorized')), site);
    expect(converted.message).toContain('assuming role arn:aws:iam::1:role/r for secret "noxus/pools/finance" failed: AccessDenied (HTTP 403)');
    expect(converted.hint).toContain('externalId');
  });

  it('drops the text of errors that may quote a response body', () => {
    const body = randomSecret('response-body');
    const converted = toAwsSourceError(new SyntaxError(`Unexpected token 'x', "${body}" is not valid JSON`), site);
    expect(converted.message).toContain('failed: SyntaxError');
    expectNoLeak(`${converted.message} ${converted.hint ?? ''}`, 'error message');
  });

  it.each(['Region is missing', 'Region not accepted: region="" is not a valid hostname component.'])('turns "%s" into a config error (exit 78)', (message) => {
    const converted = toAwsSourceError(new Error(message), site);
    expect(converted).toBeInstanceOf(ConfigError);
    expect(converted.exitCode).toBe(78);
    expect(converted.hint).toContain('AWS_REGION');
  });

  it('passes secretvisor errors through unchanged', () => {
    const original = new SecretDataError('bad data');
    expect(toAwsSourceError(original, site)).toBe(original);
  });
});

describe('awsFailureKind: the AWS clients in the shared vocabulary', () => {
  it.each<[string, unknown, string]>([
    ['AccessDeniedException (a policy)', serviceError('AccessDeniedException', 400, 'denied'), 'denied'],
    ['AccessDenied on the assume-role (trust policy, ExternalId)', new AssumeRoleError('arn:aws:iam::1:role/r', serviceError('AccessDenied', 403, 'not authorized')), 'denied'],
    ['UnrecognizedClientException', serviceError('UnrecognizedClientException', 400, 'invalid'), 'denied'],
    ['InvalidClientTokenId', serviceError('InvalidClientTokenId', 403, 'invalid'), 'denied'],
    ['SignatureDoesNotMatch', serviceError('SignatureDoesNotMatch', 403, 'signature'), 'denied'],
    ['InvalidSignatureException', serviceError('InvalidSignatureException', 400, 'signature'), 'denied'],
    ['ResourceNotFoundException', serviceError('ResourceNotFoundException', 400, 'not found'), 'not-found'],
    ['ThrottlingException', serviceError('ThrottlingException', 400, 'Rate exceeded'), 'throttled'],
    ['Throttling (STS)', new AssumeRoleError('arn:aws:iam::1:role/r', serviceError('Throttling', 400, 'Rate exceeded')), 'throttled'],
    ['TooManyRequestsException', serviceError('TooManyRequestsException', 429, 'slow down'), 'throttled'],
    ['RequestLimitExceeded (EC2)', serviceError('RequestLimitExceeded', 503, 'limit'), 'throttled'],
    ['ECONNREFUSED', systemError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'), 'unreachable'],
    ['ENOTFOUND (DNS)', systemError('ENOTFOUND', 'getaddrinfo ENOTFOUND secretsmanager.example'), 'unreachable'],
    ['an SDK timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError', code: 'TimeoutError' }), 'unreachable'],
    ['InternalServiceError (HTTP 500)', serviceError('InternalServiceError', 500, 'oops'), 'server-error'],
    ['ServiceUnavailable (HTTP 503)', serviceError('ServiceUnavailable', 503, 'unavailable'), 'server-error'],
    ['ExpiredTokenException', serviceError('ExpiredTokenException', 400, 'expired'), 'other'],
    ['MissingAuthenticationToken', serviceError('MissingAuthenticationToken', 403, 'missing'), 'other'],
    ['CredentialsProviderError', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'other'],
    ['InvalidRequestException', serviceError('InvalidRequestException', 400, 'marked for deletion'), 'other'],
    ['something that is no error', 'boom', 'other'],
  ])('maps %s to %s', (_what, error, kind) => {
    expect(awsFailureKind(error)).toBe(kind);
  });
});
