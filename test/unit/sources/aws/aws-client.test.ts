import { describe, expect, it } from 'vitest';
import { acquireClient, type AwsClientOptions } from '../../../../src/sources/aws/aws-client.js';

const base: AwsClientOptions = {
  region: 'eu-central-1',
  endpoint: 'http://127.0.0.1:9',
  roleArn: undefined,
  externalId: undefined,
  sessionName: 'secretvisor-worker',
  maxResponseBytes: 1024 * 1024,
};

describe('acquireClient', () => {
  it('lends one shared client to sources with the same region, endpoint and role', async () => {
    const first = await acquireClient(base);
    const second = await acquireClient({ ...base });
    expect(second.client).toBe(first.client);
    first.release();
    second.release();
  });

  it.each<[string, Partial<AwsClientOptions>]>([
    ['region', { region: 'us-east-1' }],
    ['endpoint', { endpoint: 'http://127.0.0.1:10' }],
    ['role', { roleArn: 'arn:aws:iam::1:role/a' }],
    ['ExternalId', { roleArn: 'arn:aws:iam::1:role/a', externalId: 'other' }],
  ])('makes a separate client for another %s', async (_label, change) => {
    const first = await acquireClient(base);
    const other = await acquireClient({ ...base, ...change });
    expect(other.client).not.toBe(first.client);
    first.release();
    other.release();
  });

  it('makes a new client once the last holder released the old one', async () => {
    const first = await acquireClient(base);
    first.release();
    first.release();
    const next = await acquireClient(base);
    expect(next.client).not.toBe(first.client);
    next.release();
  });

  it('stops lending a discarded client while its other holders keep it', async () => {
    const first = await acquireClient(base);
    const second = await acquireClient(base);
    first.discard();
    const fresh = await acquireClient(base);
    expect(fresh.client).not.toBe(second.client);
    second.release();
    fresh.release();
  });

  it('takes the region from the config, not the environment, when set', async () => {
    const lease = await acquireClient({ ...base, region: 'ap-southeast-2' });
    expect(await lease.client.config.region()).toBe('ap-southeast-2');
    lease.release();
  });
});
