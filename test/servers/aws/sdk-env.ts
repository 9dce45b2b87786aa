/** Options of {@link awsSdkEnv}. */
export interface AwsSdkEnvOptions {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region?: string;
  /** Sets AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly secretsManagerEndpoint?: string;
  /** Sets AWS_ENDPOINT_URL_STS. */
  readonly stsEndpoint?: string;
  /** Sets AWS_ENDPOINT_URL_SSM. */
  readonly ssmEndpoint?: string;
}

/**
 * The AWS variables that point the real SDK at a test server with static test
 * credentials, and keep it away from the machine's own AWS setup (profiles,
 * instance metadata).
 */
export function awsSdkEnv(options: AwsSdkEnvOptions): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: options.accessKeyId,
    AWS_SECRET_ACCESS_KEY: options.secretAccessKey,
    AWS_REGION: options.region ?? 'eu-central-1',
    AWS_CONFIG_FILE: '/nonexistent/secretvisor-test-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/secretvisor-test-aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(options.secretsManagerEndpoint === undefined ? {} : { AWS_ENDPOINT_URL_SECRETS_MANAGER: options.secretsManagerEndpoint }),
    ...(options.stsEndpoint === undefined ? {} : { AWS_ENDPOINT_URL_STS: options.stsEndpoint }),
    ...(options.ssmEndpoint === undefined ? {} : { AWS_ENDPOINT_URL_SSM: options.ssmEndpoint }),
  };
}
