import type { SsmSourceConfig } from '../../config/config.js';
import { formatDuration } from '../../config/duration.js';
import { SecretDataError, SourceUnavailableError } from '../../errors.js';
import { backoffDelay } from '../../watch/backoff.js';
import { digestEntries } from '../content-digest.js';
import { RefreshTimer } from '../refresh-timer.js';
import type { SecretSource, Snapshot, SourceContext } from '../source.js';
import { acquireSsmClient, type SsmClientLease } from './aws-client.js';
import { awsFailureKind, toAwsSourceError } from './aws-errors.js';
import { holdClient } from './held-client.js';
import { getRoleSessionName } from './role-session-name.js';
import { chunk, lastModified, mapParameters, versionSignature, type RawParameter } from './ssm-parameters.js';

/** GetParameters takes at most 10 names; GetParametersByPath answers at most 10 a page. */
const PARAMETERS_PER_CALL = 10;
/** After a ThrottlingException the source stays quiet for this long, doubling per throttle up to its `refresh`. */
const THROTTLE_BACKOFF_INITIAL_MS = 2_000;

/**
 * Parameters of AWS Systems Manager Parameter Store as a source: a hierarchy
 * (`path`, by GetParametersByPath, page by page) or named parameters (`names`,
 * by GetParameters, 10 a call), SecureString values decrypted. Keys are the
 * last path segment. Parameter Store has no cheaper "what changed" call, so
 * each read fetches the values; the snapshot changes only when a received
 * parameter's Version and its value changed, so a rewrite with the same value
 * restarts nothing. A ThrottlingException makes the source back off (2 s
 * doubling to `refresh`, jittered) without asking AWS at all, so a throttled
 * fleet really slows down; AccessDenied at start-up fails at once (exit 77).
 */
export function createSsmSource(context: SourceContext<SsmSourceConfig>): SecretSource {
  const { config, clock } = context;
  const subject = config.path ?? (config.names ?? []).join(', ');
  const log = context.log.child({ source: config.name, ...(config.path === undefined ? { names: config.names } : { path: config.path }) });
  let last: { readonly snapshot: Snapshot; readonly signature: string } | undefined;
  let onDue: ((reason: string) => void) | undefined;
  const refresh = new RefreshTimer({ clock, refreshMs: config.refreshMs, onDue: (reason) => onDue?.(reason) });
  let throttles = 0;
  let quietUntil = 0;

  const aws = holdClient<SsmClientLease>({
    acquire: () =>
      acquireSsmClient({
        region: config.region,
        endpoint: config.endpoint,
        roleArn: config.roleArn,
        externalId: config.externalId,
        sessionName: getRoleSessionName(context.service, context.pool),
        maxResponseBytes: config.maxResponseBytes,
      }),
    log,
    toError: (operation, error) => new FailedCall(operation, error),
  });

  const readPath = async (path: string, signal: AbortSignal): Promise<RawParameter[]> => {
    const parameters: RawParameter[] = [];
    let nextToken: string | undefined;
    do {
      const page = await aws.call('GetParametersByPath', ({ client, sdk }) =>
        client.send(
          new sdk.GetParametersByPathCommand({
            Path: path,
            Recursive: config.recursive,
            WithDecryption: true,
            MaxResults: PARAMETERS_PER_CALL,
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
          { abortSignal: signal },
        ),
      );
      parameters.push(...toRawParameters(page.Parameters));
      nextToken = page.NextToken;
    } while (nextToken !== undefined && nextToken !== '');
    if (parameters.length === 0) {
      throw new SecretDataError(`aws-ssm source "${config.name}": no parameters under "${path}"${config.recursive ? '' : ' (one level)'}`, {
        hint: config.recursive
          ? 'check `path` and `region`: the parameters must exist in that account and region'
          : 'check `path` and `region`; for parameters in levels below the path, set recursive: true',
      });
    }
    return parameters;
  };

  const readNames = async (names: readonly string[], signal: AbortSignal): Promise<RawParameter[]> => {
    const parameters: RawParameter[] = [];
    const missing: string[] = [];
    for (const batch of chunk(names, PARAMETERS_PER_CALL)) {
      const answer = await aws.call('GetParameters', ({ client, sdk }) => client.send(new sdk.GetParametersCommand({ Names: batch, WithDecryption: true }), { abortSignal: signal }));
      parameters.push(...toRawParameters(answer.Parameters));
      missing.push(...(answer.InvalidParameters ?? []));
    }
    if (missing.length > 0) {
      throw new SecretDataError(`aws-ssm source "${config.name}": ${missing.length === 1 ? 'parameter' : 'parameters'} ${missing.map((name) => `"${name}"`).join(', ')} not found`, {
        hint: 'check `names` and `region`: each parameter must exist in that account and region',
      });
    }
    return parameters;
  };

  const fetchParameters = async (signal: AbortSignal): Promise<RawParameter[]> => {
    const waitMs = quietUntil - clock.now();
    if (waitMs > 0) {
      throw new SourceUnavailableError(`aws-ssm source "${config.name}": AWS throttled the last request for parameters "${subject}"; not asking again for ${formatDuration(waitMs)}`, {
        hint: 'Parameter Store allows 40 requests/s per account and region for the whole fleet: raise `refresh`, or read fewer, larger hierarchies',
      });
    }
    try {
      const parameters = config.path === undefined ? await readNames(config.names ?? [], signal) : await readPath(config.path, signal);
      throttles = 0;
      return parameters;
    } catch (thrown) {
      if (!(thrown instanceof FailedCall)) throw thrown;
      if (awsFailureKind(thrown.error) === 'throttled') {
        const delayMs = backoffDelay(throttles, {
          initialMs: THROTTLE_BACKOFF_INITIAL_MS,
          maxMs: Math.max(THROTTLE_BACKOFF_INITIAL_MS, config.refreshMs),
          random: () => clock.random(),
        });
        throttles += 1;
        quietUntil = clock.now() + delayMs;
        log.warn({ throttles, quietMs: delayMs }, `AWS is throttling Parameter Store reads; backing off for ${formatDuration(delayMs)}`);
      }
      throw toAwsSourceError(thrown.error, { source: config.name, secretId: subject, operation: thrown.operation, service: 'ssm' });
    }
  };

  return {
    name: config.name,
    kind: config.type,

    async read(signal: AbortSignal): Promise<Snapshot> {
      const parameters = await fetchParameters(signal);
      const signature = versionSignature(parameters);
      const updatedAt = lastModified(parameters);
      if (last !== undefined && last.signature === signature) {
        log.debug({ parameters: parameters.length }, 'ssm parameters unchanged');
        return last.snapshot;
      }
      const entries = mapParameters(parameters, config.name);
      // A new Version with the same value (a re-put) gives the same digest: nothing restarts for it.
      const snapshot: Snapshot = { entries, version: digestEntries(entries), updatedAt };
      log.info({ parameters: parameters.length, changed: last !== undefined && last.snapshot.version !== snapshot.version }, 'ssm parameters read');
      last = { snapshot, signature };
      return snapshot;
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

/** A failed AWS call, as `send` throws it: the operation, for the message, and the SDK's error (never shown as it is). */
class FailedCall extends Error {
  readonly operation: string;
  readonly error: unknown;

  constructor(operation: string, error: unknown) {
    super(`${operation} failed`);
    this.operation = operation;
    this.error = error;
  }
}

interface SdkParameter {
  readonly Name?: string | undefined;
  readonly Value?: string | undefined;
  readonly Version?: number | undefined;
  readonly LastModifiedDate?: Date | undefined;
}

function toRawParameters(parameters: readonly SdkParameter[] | undefined): RawParameter[] {
  return (parameters ?? []).map((parameter) => ({
    name: parameter.Name ?? '',
    value: parameter.Value ?? '',
    version: parameter.Version ?? 0,
    lastModified: parameter.LastModifiedDate,
  }));
}
