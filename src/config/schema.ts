import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseSize, SIZE_PATTERN } from './size.js';
import { listenEntry } from '../listen/listen-schema.js';
import { metricsSchema } from '../health/metrics-schema.js';
import { ENV_NAME_PATTERN } from './env-name.js';

/**
 * The config file's one schema: it validates the YAML, it is the source of
 * the TypeScript input types, and `secretvisor schema` prints it as JSON
 * Schema. Values are checked for shape here; meaning (durations in ms,
 * signal numbers, references between sections) is settled in finalize.
 */

const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h)$/;
const SOURCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MODE_PATTERN = /^0?[0-7]{3}$/;
const HOST_PORT_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

// Node's timers hold at most 2^31 - 1 ms (24.8 days): a longer delay fires after 1 ms, over and over.
const MAX_DURATION_MS = 2 ** 31 - 1;

// Far above any real secret answer, far below what would strain memory: a larger one is a mistake or an attack.
const MAX_RESPONSE_SIZE_BYTES = 1024 ** 3;

const responseSize = z
  .string()
  .regex(SIZE_PATTERN, { error: 'expected a size such as 512KiB, 1MiB or 16MiB' })
  .refine((text) => !SIZE_PATTERN.test(text) || (parseSize(text) > 0 && parseSize(text) <= MAX_RESPONSE_SIZE_BYTES), {
    error: 'expected a size between 1B and 1GiB',
  })
  .describe('Largest answer accepted from the server, e.g. 1MiB; a larger one is refused (exit 65) without being read whole. Default 1MiB.');

const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'expected a duration such as 250ms, 10s, 5m or 1h' })
  .refine((text) => !DURATION_PATTERN.test(text) || parseDuration(text) <= MAX_DURATION_MS, {
    error: 'expected at most 596h, the longest delay a timer can wait',
  })
  .describe('A duration: a number followed by ms, s, m or h.');

// The kernel takes paths as C strings: a NUL byte would cut one short, and Node refuses it.
const filePath = z
  .string()
  .min(1)
  .regex(/^[^\0]*$/, { error: 'expected a path without NUL bytes' });

const envName = z.string().regex(ENV_NAME_PATTERN, { error: 'expected an environment variable name: letters, digits and _, not starting with a digit' });

const permissionPolicy = z.enum(['strict', 'warn', 'fix']).describe('strict refuses unsafe secret files (exit 77), warn logs and goes on, fix tightens the mode and logs it.');

const signalName = z.string().regex(/^SIG[A-Z0-9]+$/, { error: 'expected a signal name such as SIGHUP or SIGTERM' });

const changeAction = z.enum(['restart', 'signal', 'none']);

// Per source: `restart`, `none`, `signal` (onChange.signal), or { action: signal, signal: SIGUSR1 }.
const sourceChange = z
  .union([changeAction, z.strictObject({ action: changeAction, signal: signalName.optional() })])
  .describe('What a change of this source does to the child; default the global onChange. Restart wins over signal when several change at once.');

const commonSourceKeys = {
  onChange: sourceChange.optional(),
  keys: z.record(envName, z.string().min(1)).optional().describe('Select and rename: ENV_NAME → key in the source. Without it every key passes under its own name.'),
  prefix: z.string().optional().describe('Prepended to every name the source yields.'),
  required: z.array(envName).optional().describe('Env names that must be present.'),
  sanitize: z.boolean().optional().describe('Turn invalid env names into valid ones (api-key → api_key).'),
  upcase: z.boolean().optional().describe('Upper-case names, sanitizing them too (api-key → API_KEY).'),
  permissions: permissionPolicy.optional(),
  asEnv: z.boolean().optional().describe("false keeps this source's keys out of the child's environment: they only feed env: and files: templates."),
  allowNames: z.array(envName).optional().describe('Names that change how programs load code (LD_PRELOAD, NODE_OPTIONS, …) this source may set.'),
  refresh: duration.optional().describe('How often to re-read: remote sources poll, file sources re-read as a safety net.'),
};

// Characters a generated value may draw from: printable ASCII that a dotenv line holds unquoted, as it is written.
const ALPHABET_PATTERN = /^[!$-&(-[\]-_a-~]+$/;
const MAX_GENERATED_SIZE = 4096;

const generatedKey = z
  .strictObject({
    bytes: z.number().int().min(1).max(MAX_GENERATED_SIZE).optional().describe('Random bytes, written in encoding.'),
    encoding: z.enum(['hex', 'base64', 'base64url']).optional().describe('How the bytes are written; default base64url.'),
    length: z.number().int().min(1).max(MAX_GENERATED_SIZE).optional().describe('Characters drawn from alphabet, each uniformly.'),
    alphabet: z
      .string()
      .min(2)
      .max(89)
      .regex(ALPHABET_PATTERN, { error: 'expected printable ASCII characters without space, quotes, backtick, backslash and # (such as "0123456789")' })
      .optional()
      .describe('The characters of a value of length characters, each listed once.'),
  })
  .describe('Give bytes (and encoding), or length and alphabet.');

const generateKeys = z
  .record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { error: 'expected a key name: letters, digits, _ . -, not starting with . or -' }), generatedKey)
  .optional()
  .describe('Keys created with random values when missing from this source (secretvisor generate, or run at start-up); existing values are never replaced.');

const dotenvSource = z.strictObject({
  type: z.literal('dotenv'),
  path: filePath.describe('A KEY=value file (dotenv syntax).'),
  generate: generateKeys,
  ...commonSourceKeys,
});

const directorySource = z.strictObject({
  type: z.literal('directory'),
  path: filePath.describe('A folder with one secret per file (Kubernetes Secret mount, /run/secrets, $CREDENTIALS_DIRECTORY).'),
  generate: generateKeys,
  ...commonSourceKeys,
});

const vaultAuth = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('token'),
    tokenFile: filePath.optional().describe('Else VAULT_TOKEN, else ~/.vault-token.'),
  }),
  z.strictObject({
    method: z.literal('approle'),
    roleId: z.string().min(1).optional(),
    roleIdFile: filePath.optional(),
    secretIdFile: filePath.optional(),
    mount: z.string().min(1).optional().describe('Auth mount path; default approle.'),
  }),
  z.strictObject({
    method: z.literal('kubernetes'),
    role: z.string().min(1),
    jwtFile: filePath.optional().describe('Default: the service account token.'),
    mount: z.string().min(1).optional().describe('Auth mount path; default kubernetes.'),
  }),
  z.strictObject({
    method: z.literal('aws'),
    role: z.string().min(1).describe('The Vault role of the aws auth method (auth/<mount>/role/<role>, auth_type=iam).'),
    mount: z.string().min(1).optional().describe('Auth mount path; default aws.'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'expected an AWS region such as us-east-1 or eu-central-1' })
      .optional()
      .describe(
        "Sign for this region's STS endpoint (sts.<region>.amazonaws.com), as Vault's sts_endpoint/sts_region must match; default: the global endpoint sts.amazonaws.com (us-east-1), Vault's default.",
      ),
    stsEndpoint: z.string().url().optional().describe('STS endpoint URL to sign the request for; default AWS_ENDPOINT_URL_STS, else by region.'),
    headerValue: z.string().min(1).optional().describe("Signed X-Vault-AWS-IAM-Server-ID header; must equal the mount's iam_server_id_header_value."),
  }),
  z.strictObject({
    method: z.literal('jwt'),
    role: z.string().min(1).describe('The Vault role of the jwt auth method (auth/<mount>/role/<role>).'),
    jwtFile: filePath.describe('File holding the JWT (a projected service-account token, a CI identity token); read again at every login.'),
    mount: z.string().min(1).optional().describe('Auth mount path; default jwt.'),
  }),
]);

// Opt-in encrypted last-good cache of a remote source (docs/zero-downtime.md).
const sourceCache = z
  .strictObject({ maxAge: duration.describe('Start from a cache at most this old when the source is unreachable at start-up.') })
  .describe('Keep the last good values encrypted in cache.dir.');

// `POST {mount}/issue/{role}` of Vault's PKI secrets engine (docs/vault.md, "Certificates").
const pkiIssue = z
  .strictObject({
    mount: z.string().min(1).optional().describe('Mount path of the PKI secrets engine; default pki.'),
    role: z.string().min(1).describe('The PKI role that issues the certificate.'),
    commonName: z.string().min(1).describe("The certificate's common name (a DNS name the role allows)."),
    altNames: z.array(z.string().min(1)).optional().describe('More DNS names (subject alternative names).'),
    ipSans: z
      .array(z.union([z.ipv4(), z.ipv6()], { error: 'expected an IP address such as 10.0.0.5 or fd00::5' }))
      .optional()
      .describe('IP addresses (subject alternative names).'),
    ttl: duration.optional().describe("The certificate's lifetime, in whole seconds or more; default the role's ttl."),
    renewBefore: duration.optional().describe('Re-issue at about 2/3 of the lifetime, and never later than this before notAfter; default 1m.'),
  })
  .describe('Issue a certificate instead of reading path: yields TLS_CERT, TLS_KEY, TLS_CA and TLS_FULLCHAIN (PEM), for files:; asEnv defaults to false.');

const vaultSource = z.strictObject({
  type: z.literal('vault'),
  address: z.string().url().optional().describe('Default: VAULT_ADDR.'),
  namespace: z.string().optional().describe('Default: VAULT_NAMESPACE.'),
  caCert: filePath.optional().describe('PEM file of the CA to trust; default VAULT_CACERT.'),
  auth: vaultAuth.optional().describe('Default: token.'),
  path: z.string().min(1).optional().describe('A KV v2 path (secret/data/…), a KV v1 path, or a dynamic secret (database/creds/app); give path or pki, not both.'),
  pki: pkiIssue.optional(),
  revokeOnExit: z.boolean().optional().describe('Revoke dynamic leases when secretvisor exits.'),
  timeout: duration.optional().describe('Per-request timeout; default 10s.'),
  followRedirects: z
    .union([z.literal('never'), z.literal('same-origin'), z.array(z.string().url()).min(1)])
    .optional()
    .describe(
      'never (default): a redirect is refused. same-origin: follow one to the same scheme, host and port. A list of origins (https://vault-2:8200): also follow one to those (an HA standby pointing at the active node). Never to http from https.',
    ),
  maxResponseSize: responseSize.optional(),
  cache: sourceCache.optional(),
  ...commonSourceKeys,
});

const awsSource = z.strictObject({
  type: z.literal('aws-secrets-manager'),
  region: z.string().min(1).optional().describe("Default: the SDK's (AWS_REGION)."),
  secretId: z.string().min(1).describe('Name or ARN of the secret.'),
  versionStage: z.string().min(1).optional().describe('Default AWSCURRENT.'),
  key: envName.optional().describe('Env name for a secret whose value is not a JSON object.'),
  endpoint: z.string().url().optional().describe('A VPC or PrivateLink endpoint.'),
  roleArn: z.string().min(1).optional().describe('Assume this role first.'),
  externalId: z.string().min(1).optional().describe('ExternalId for the assume-role call.'),
  maxResponseSize: responseSize.optional(),
  cache: sourceCache.optional(),
  ...commonSourceKeys,
});

const ssmParameterName = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[A-Za-z0-9_.\-/]+$/, { error: 'expected a parameter name: letters, digits and _ . - /' });

const ssmSource = z.strictObject({
  type: z.literal('aws-ssm'),
  region: z.string().min(1).optional().describe("Default: the SDK's (AWS_REGION)."),
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9_.\-/]*$/, { error: 'expected a hierarchy path starting with /, such as /noxus/prod/worker/' })
    .optional()
    .describe('Every parameter under this hierarchy (GetParametersByPath); give path or names, not both.'),
  recursive: z.boolean().optional().describe('With path: also the levels below it; default false (one level).'),
  names: z.array(ssmParameterName).min(1).optional().describe('These parameters by name (GetParameters, 10 a call); give path or names, not both.'),
  endpoint: z.string().url().optional().describe('A VPC endpoint; default AWS_ENDPOINT_URL_SSM, then the regional one.'),
  roleArn: z.string().min(1).optional().describe('Assume this role first.'),
  externalId: z.string().min(1).optional().describe('ExternalId for the assume-role call.'),
  maxResponseSize: responseSize.optional(),
  cache: sourceCache.optional(),
  ...commonSourceKeys,
});

const source = z.discriminatedUnion('type', [dotenvSource, directorySource, vaultSource, awsSource, ssmSource]);

const sourceList = z.array(z.string().regex(SOURCE_NAME_PATTERN));

const fileOutput = z.strictObject({
  path: filePath.describe('Relative to the private runtime folder.'),
  template: z.string().describe('Content; {{secret.NAME}} is replaced by a resolved secret.'),
  mode: z.string().regex(MODE_PATTERN, { error: 'expected an octal mode in quotes, such as "0400"' }).optional().describe('Default "0400".'),
  env: envName.optional().describe("The child learns the file's full path from this variable."),
});

const idOrName = z.union([z.string().min(1), z.number().int().nonnegative()]);

/** The whole config file, as written. */
export const configSchema = z.strictObject({
  version: z.literal(1),
  sources: z.record(z.string().regex(SOURCE_NAME_PATTERN, { error: 'expected a source name: letters, digits, _ . -' }), source),
  scopes: z
    .strictObject({
      global: sourceList.optional(),
      services: z.record(z.string().min(1), sourceList).optional(),
      pools: z.record(z.string().min(1), z.record(z.string().min(1), sourceList)).optional(),
    })
    .optional(),
  env: z.record(envName, z.string()).optional().describe('Derived values; {{secret.NAME}} refers to a resolved secret.'),
  files: z.array(fileOutput).optional(),
  inherit: z
    .union([z.enum(['all', 'none']), z.array(envName)])
    .optional()
    .describe("Which of secretvisor's own environment the child keeps."),
  permissions: permissionPolicy.optional(),
  onChange: z
    .strictObject({
      env: changeAction.optional(),
      files: changeAction.optional(),
      signal: signalName.optional(),
      stopSignal: signalName.optional(),
      stopTimeout: duration.optional(),
      debounce: duration.optional(),
      splay: duration.optional(),
      strategy: z
        .enum(['restart', 'overlap'])
        .optional()
        .describe(
          'restart (default): stop the old child, then start the new one. overlap: start the new child, wait until it is ready (needs ready:), then stop the old one; a new child that fails keeps the old one serving.',
        ),
    })
    .optional(),
  ready: z
    .strictObject({
      tcp: z.string().regex(HOST_PORT_PATTERN, { error: 'expected host:port, such as 127.0.0.1:8080 or [::1]:8080' }).optional().describe('Ready once a TCP connection to host:port succeeds.'),
      http: z.string().min(1).optional().describe('Ready once a GET of this http(s) URL answers 2xx.'),
      command: z
        .array(z.string().min(1))
        .min(1, { error: 'expected a program and its arguments, such as [/usr/bin/pg_isready, -q]' })
        .optional()
        .describe("Ready once this command exits 0; it runs with the child's environment and user."),
      timeout: duration.optional().describe('The child must be ready within this; else it is stopped and handled like a crash. Default 30s.'),
      interval: duration.optional().describe('How often the check is tried. Default 200ms.'),
    })
    .optional()
    .describe('Readiness check of the child: give exactly one of tcp, http and command. READY=1 goes to systemd once it passes.'),
  onExit: z.enum(['exit', 'restart']).optional(),
  startup: z
    .strictObject({
      timeout: duration.optional(),
      splay: duration
        .optional()
        .describe(
          'run waits a random delay up to this long before its first read of a remote source, so a fleet that reboots together does not hit the store together (bench/fleet.ts: 3m for 100,000 hosts × 10 secrets on AWS). Default 0s.',
        ),
    })
    .optional(),
  user: idOrName.optional(),
  group: idOrName.optional(),
  cache: z
    .strictObject({
      dir: filePath.describe('Folder of the encrypted cache files (for systemd, StateDirectory=).'),
      keyFile: filePath.optional().describe('A file of at least 32 random bytes, 0600 or 0400, not in dir.'),
      keyCredential: z.string().min(1).optional().describe('Name of a systemd credential ($CREDENTIALS_DIRECTORY/<name>, LoadCredentialEncrypted=).'),
    })
    .optional()
    .describe('Where sources with cache: keep their last good values, and the key that encrypts them.'),
  listen: z.array(listenEntry).optional().describe('Sockets secretvisor holds for its whole life and passes to every child (systemd socket activation).'),
  metrics: metricsSchema.optional(),
});

/** The config file as written, after YAML parsing and validation. */
export type RawConfig = z.infer<typeof configSchema>;
export type RawSource = z.infer<typeof source>;
export type RawVaultAuth = z.infer<typeof vaultAuth>;
export type RawGeneratedKey = z.infer<typeof generatedKey>;
export type PermissionPolicy = z.infer<typeof permissionPolicy>;
export type ChangeAction = z.infer<typeof changeAction>;
export type RawReady = NonNullable<RawConfig['ready']>;
