import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { randomSecret } from '../../helpers/secrets.js';

/** The region every moto suite works in. */
export const MOTO_REGION = 'eu-central-1';

/** Static credentials, as a test's host would have them; moto accepts any key and maps it to its default account. */
export interface TestCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Fresh random host credentials (random so the leak check can look for them). */
export function hostCredentials(): TestCredentials {
  return {
    accessKeyId: `AKIA${randomSecret('host')
      .replace(/[^a-z0-9]/g, '')
      .toUpperCase()
      .slice(0, 16)}`,
    secretAccessKey: randomSecret('host-secret-key'),
  };
}

/** The test's own clients for seeding moto: Secrets Manager, SSM and STS, all at `endpoint`. */
export interface MotoClients {
  readonly secretsManager: SecretsManagerClient;
  readonly ssm: SSMClient;
  readonly sts: STSClient;
  destroy(): void;
}

/** Clients of the real AWS SDK pointed at moto with `credentials`. */
export function motoClients(endpoint: string, credentials: TestCredentials): MotoClients {
  const config = { endpoint, region: MOTO_REGION, credentials };
  const clients = { secretsManager: new SecretsManagerClient(config), ssm: new SSMClient(config), sts: new STSClient(config) };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

/** Clients acting as `roleArn` (moto puts the role's resources in the account of its ARN), for seeding another account. */
export async function motoClientsAsRole(endpoint: string, host: TestCredentials, roleArn: string): Promise<MotoClients> {
  const base = motoClients(endpoint, host);
  try {
    const { Credentials } = await base.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'test-seeding' }));
    if (Credentials?.AccessKeyId === undefined || Credentials.SecretAccessKey === undefined) throw new Error(`moto gave no credentials for ${roleArn}`);
    return motoClients(endpoint, {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      ...(Credentials.SessionToken === undefined ? {} : { sessionToken: Credentials.SessionToken }),
    });
  } finally {
    base.destroy();
  }
}
