/** The parts of the AWS SDK the source uses, loaded on first use. */
export interface AwsSdk {
  readonly SecretsManagerClient: typeof import('@aws-sdk/client-secrets-manager').SecretsManagerClient;
  readonly DescribeSecretCommand: typeof import('@aws-sdk/client-secrets-manager').DescribeSecretCommand;
  readonly GetSecretValueCommand: typeof import('@aws-sdk/client-secrets-manager').GetSecretValueCommand;
  readonly fromTemporaryCredentials: typeof import('@aws-sdk/credential-providers').fromTemporaryCredentials;
}

let loading: Promise<AwsSdk> | undefined;

/**
 * Imports the AWS SDK once, on first use. Dynamic imports keep the SDK out of
 * secretvisor's start-up path (the bundle keeps `@aws-sdk/*` external and
 * would otherwise hoist a static import to the top of the CLI).
 */
export function loadAwsSdk(): Promise<AwsSdk> {
  loading ??= Promise.all([import('@aws-sdk/client-secrets-manager'), import('@aws-sdk/credential-providers')]).then(([secretsManager, providers]) => ({
    SecretsManagerClient: secretsManager.SecretsManagerClient,
    DescribeSecretCommand: secretsManager.DescribeSecretCommand,
    GetSecretValueCommand: secretsManager.GetSecretValueCommand,
    fromTemporaryCredentials: providers.fromTemporaryCredentials,
  }));
  return loading;
}

/** The parts of the AWS SDK the Parameter Store source uses, loaded on first use. */
export interface SsmSdk {
  readonly SSMClient: typeof import('@aws-sdk/client-ssm').SSMClient;
  readonly GetParametersByPathCommand: typeof import('@aws-sdk/client-ssm').GetParametersByPathCommand;
  readonly GetParametersCommand: typeof import('@aws-sdk/client-ssm').GetParametersCommand;
  readonly fromTemporaryCredentials: typeof import('@aws-sdk/credential-providers').fromTemporaryCredentials;
}

let loadingSsm: Promise<SsmSdk> | undefined;

/** Imports the SSM client once, on first use, like {@link loadAwsSdk}: a config without `aws-ssm` never loads it. */
export function loadSsmSdk(): Promise<SsmSdk> {
  loadingSsm ??= Promise.all([import('@aws-sdk/client-ssm'), import('@aws-sdk/credential-providers')]).then(([ssm, providers]) => ({
    SSMClient: ssm.SSMClient,
    GetParametersByPathCommand: ssm.GetParametersByPathCommand,
    GetParametersCommand: ssm.GetParametersCommand,
    fromTemporaryCredentials: providers.fromTemporaryCredentials,
  }));
  return loadingSsm;
}
