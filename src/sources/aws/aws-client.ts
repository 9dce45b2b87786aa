import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { loadAwsSdk, loadSsmSdk, type AwsSdk, type SsmSdk } from './load-aws-sdk.js';
import { capResponseSize } from './response-cap.js';
import { SharedByKey } from '../../lib/shared-by-key.js';

/** Attempts per AWS call, first one included; the supervisor retries beyond this with its own backoff. */
const AWS_MAX_ATTEMPTS = 3;
/** Time allowed to open a connection to an AWS endpoint. */
const CONNECTION_TIMEOUT_MS = 5_000;
/** Time allowed for one request once connected. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Lifetime asked for assumed-role credentials; the SDK refreshes them 5 minutes before they expire. */
const ROLE_SESSION_SECONDS = 3_600;

/** Where and as whom an AWS client (Secrets Manager, SSM) talks. */
export interface AwsClientOptions {
  /** Undefined: the SDK's default (AWS_REGION, the profile). */
  readonly region: string | undefined;
  /** Undefined: the SDK's default (AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL_SSM, then the public regional endpoint). */
  readonly endpoint: string | undefined;
  /** Assume this role through STS; undefined uses the SDK's default credential chain as is. */
  readonly roleArn: string | undefined;
  readonly externalId: string | undefined;
  readonly sessionName: string;
  /** Largest answer accepted (`maxResponseSize`), in bytes. */
  readonly maxResponseBytes: number;
}

/** A shared client and the way to give it back. */
export interface ServiceLease<C, Sdk> {
  readonly client: C;
  readonly sdk: Sdk;
  /** Gives the client back; the last holder's release destroys it (closing its sockets). Idempotent. */
  release(): void;
  /** Gives the client back and keeps it from being lent again, so the next lease starts with fresh credentials. */
  discard(): void;
}

/** A shared Secrets Manager client. */
export type ClientLease = ServiceLease<SecretsManagerClient, AwsSdk>;
/** A shared SSM (Parameter Store) client. */
export type SsmClientLease = ServiceLease<SSMClient, SsmSdk>;

/** The STS AssumeRole call behind a role's credentials failed; `cause` is the SDK's error. */
export class AssumeRoleError extends Error {
  readonly roleArn: string;

  constructor(roleArn: string, cause: unknown) {
    super(`assuming role ${roleArn} failed`, { cause });
    this.name = 'AssumeRoleError';
    this.roleArn = roleArn;
  }
}

type RoleCredentials = ReturnType<AwsSdk['fromTemporaryCredentials']>;

/** What every AWS SDK client offers that the cache needs. */
interface Destroyable {
  destroy(): void;
  readonly middlewareStack: Parameters<typeof capResponseSize>[0]['middlewareStack'];
}

/** The settings every client gets, whatever its service. */
interface ClientSettings {
  readonly maxAttempts: number;
  readonly requestHandler: { readonly connectionTimeout: number; readonly requestTimeout: number; readonly throwOnRequestTimeout: boolean };
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: RoleCredentials;
}

/** How to load one service's SDK and make its client. */
interface ServiceBinding<C extends Destroyable, Sdk extends Pick<AwsSdk, 'fromTemporaryCredentials'>> {
  readonly service: string;
  readonly load: () => Promise<Sdk>;
  readonly construct: (sdk: Sdk, settings: ClientSettings) => C;
}

const SECRETS_MANAGER: ServiceBinding<SecretsManagerClient, AwsSdk> = {
  service: 'secretsmanager',
  load: loadAwsSdk,
  construct: (sdk, settings) => new sdk.SecretsManagerClient(settings),
};

const SSM: ServiceBinding<SSMClient, SsmSdk> = {
  service: 'ssm',
  load: loadSsmSdk,
  construct: (sdk, settings) => new sdk.SSMClient(settings),
};

// A client that could not be made has nothing to destroy.
const clients = new SharedByKey<Promise<Destroyable>>((client) => {
  void client.then(
    (made) => made.destroy(),
    () => undefined,
  );
});

/**
 * Lends a Secrets Manager client for these options. Sources with the same
 * region, endpoint, role and ExternalId share one client, and so one
 * connection pool and one set of cached role credentials.
 */
export function acquireClient(options: AwsClientOptions): Promise<ClientLease> {
  return acquireServiceClient(SECRETS_MANAGER, options);
}

/** Lends an SSM client for these options, shared the same way as {@link acquireClient}'s. */
export function acquireSsmClient(options: AwsClientOptions): Promise<SsmClientLease> {
  return acquireServiceClient(SSM, options);
}

async function acquireServiceClient<C extends Destroyable, Sdk extends Pick<AwsSdk, 'fromTemporaryCredentials'>>(
  binding: ServiceBinding<C, Sdk>,
  options: AwsClientOptions,
): Promise<ServiceLease<C, Sdk>> {
  const key = JSON.stringify([binding.service, options.region, options.endpoint, options.roleArn, options.externalId, options.sessionName, options.maxResponseBytes]);
  const share = clients.acquire(key, () => binding.load().then((sdk) => createClient(binding, sdk, options)));
  try {
    const [client, sdk] = await Promise.all([share.value as Promise<C>, binding.load()]);
    return {
      client,
      sdk,
      release: () => void share.release(),
      discard: () => void share.discard(),
    };
  } catch (error) {
    void share.discard();
    throw error;
  }
}

function createClient<C extends Destroyable, Sdk extends Pick<AwsSdk, 'fromTemporaryCredentials'>>(binding: ServiceBinding<C, Sdk>, sdk: Sdk, options: AwsClientOptions): C {
  const requestHandler = {
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  };
  const client = withoutNodeVersionWarning(() =>
    binding.construct(sdk, {
      maxAttempts: AWS_MAX_ATTEMPTS,
      requestHandler,
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.roleArn === undefined ? {} : { credentials: assumeRole(sdk, options, options.roleArn, requestHandler) }),
    }),
  );
  capResponseSize(client, options.maxResponseBytes);
  return client;
}

const NODE_VERSION_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Runs `construct` with the SDK's Node-version warning switched off. On Node
 * 20 the SDK's first client writes a multi-line `process.emitWarning` to
 * stderr, which is secretvisor's one-JSON-line-per-event log. The SDK reads
 * the switch synchronously while constructing and then never warns again, so
 * it is set only for that moment and the child never inherits it.
 */
export function withoutNodeVersionWarning<T>(construct: () => T): T {
  if (process.env[NODE_VERSION_WARNING_SWITCH] !== undefined) return construct();
  process.env[NODE_VERSION_WARNING_SWITCH] = 'true';
  try {
    return construct();
  } finally {
    delete process.env[NODE_VERSION_WARNING_SWITCH];
  }
}

/**
 * Credentials of `roleArn`, obtained with the SDK's default chain through
 * STS (which honours AWS_ENDPOINT_URL_STS). The client caches them and asks
 * again shortly before they expire. Failures are tagged as assume-role
 * failures so that messages can say which step failed.
 */
function assumeRole(sdk: Pick<AwsSdk, 'fromTemporaryCredentials'>, options: AwsClientOptions, roleArn: string, requestHandler: object): RoleCredentials {
  const provider = sdk.fromTemporaryCredentials({
    params: {
      RoleArn: roleArn,
      RoleSessionName: options.sessionName,
      DurationSeconds: ROLE_SESSION_SECONDS,
      ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
    },
    clientConfig: {
      maxAttempts: AWS_MAX_ATTEMPTS,
      requestHandler,
      ...(options.region === undefined ? {} : { region: options.region }),
    },
  });
  return async (properties) => {
    try {
      return await provider(properties);
    } catch (error) {
      throw new AssumeRoleError(roleArn, error);
    }
  };
}
