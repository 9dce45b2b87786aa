/** Every default of the config, named, in one place. */
export const DEFAULTS = {
  permissions: 'strict',
  inherit: 'all',
  onExit: 'exit',
  onChange: {
    env: 'restart',
    files: 'signal',
    signal: 'SIGHUP',
    stopSignal: 'SIGTERM',
    stopTimeout: '10s',
    debounce: '250ms',
    splay: '0s',
    strategy: 'restart',
  },
  startupTimeout: '60s',
  startupSplay: '0s',
  /** Remote sources poll this often. */
  remoteRefresh: '5m',
  /** Parameter Store's 40 requests/s per account and region are shared by the fleet: see docs/aws.md. */
  ssmRefresh: '15m',
  /** File sources are watched; this slow re-read catches events the watcher lost. */
  fileRefresh: '1m',
  vaultTimeout: '10s',
  /** The mount of each Vault login method, as `vault auth enable` names it. */
  vaultAuthMount: { approle: 'approle', kubernetes: 'kubernetes', jwt: 'jwt', aws: 'aws' },
  /** The file `vault login` writes, under HOME. */
  vaultHomeTokenFile: '.vault-token',
  /** Where Kubernetes mounts a pod's service-account token. */
  kubernetesJwtFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  /** Where Vault's aws method sends the signed request unless its sts_endpoint says otherwise, and the region that is signed for. */
  stsEndpoint: 'https://sts.amazonaws.com',
  stsRegion: 'us-east-1',
  pkiMount: 'pki',
  /** A certificate is re-issued at about 2/3 of its lifetime, and never later than this before it expires. */
  pkiRenewBefore: '1m',
  /** The largest secret file too (SPEC): a remote answer holds no more than a file may. */
  maxResponseSize: '1MiB',
  awsVersionStage: 'AWSCURRENT',
  fileMode: '0400',
  readyTimeout: '30s',
  readyInterval: '200ms',
  /** Node's own default for listen(). */
  listenBacklog: 511,
  listenUnixMode: '0660',
  /** Safe in a URL, a shell word and an unquoted dotenv value. */
  generateEncoding: 'base64url',
} as const;
