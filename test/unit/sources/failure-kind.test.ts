import { describe, expect, it } from 'vitest';
import { ConfigError, NotFoundError, PermissionError, SecretDataError, SourceUnavailableError, UsageError } from '../../../src/errors.js';
import { failureKindOf, sourceFailure, type FailureKind, type RemoteFailureKind } from '../../../src/sources/failure-kind.js';

describe('sourceFailure: one decision for every client', () => {
  it.each<[RemoteFailureKind, abstract new (...args: never[]) => Error, number, FailureKind]>([
    ['denied', PermissionError, 77, 'denied'],
    ['not-found', NotFoundError, 66, 'not-found'],
    ['throttled', SourceUnavailableError, 69, 'transient'],
    ['unreachable', SourceUnavailableError, 69, 'transient'],
    ['server-error', SourceUnavailableError, 69, 'transient'],
    ['other', SourceUnavailableError, 69, 'transient'],
  ])('makes %s a %O (exit %i), read back as %s', (kind, type, exitCode, readBack) => {
    const error = sourceFailure(kind, 'vault source "core": read secret/data/app failed', { hint: 'the fix' });
    expect(error).toBeInstanceOf(type);
    expect([error.exitCode, error.message, error.hint, failureKindOf(error)]).toEqual([exitCode, 'vault source "core": read secret/data/app failed', 'the fix', readBack]);
  });

  it('keeps the cause', () => {
    const cause = new Error('503 Vault is sealed');
    expect(sourceFailure('server-error', 'failed', { cause }).cause).toBe(cause);
  });
});

describe('failureKindOf', () => {
  it.each<[string, unknown, FailureKind]>([
    ['an outage', new SourceUnavailableError('unreachable'), 'transient'],
    ['a refusal', new PermissionError('denied'), 'denied'],
    ['a missing secret', new NotFoundError('missing'), 'not-found'],
    ['bad data', new SecretDataError('not KEY=value'), 'invalid'],
    ['a bad config', new ConfigError('unknown role'), 'invalid'],
    ['another secretvisor error', new UsageError('no command'), 'invalid'],
    ['an error no source should throw', new TypeError('undefined is not a function'), 'invalid'],
  ])('reads %s as %s', (_what, error, kind) => {
    expect(failureKindOf(error)).toBe(kind);
  });
});
