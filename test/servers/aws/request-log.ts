/** One request the server answered (or dropped). */
export interface AwsRequestRecord {
  readonly service: 'secretsmanager' | 'ssm' | 'sts';
  readonly action: string;
  /** The access key id that signed it, if it was signed. */
  readonly accessKeyId: string | undefined;
  /** The ARN of the identity that signed it, when it was recognised. */
  readonly principal: string | undefined;
  /** The role ARN of the session that signed it, when a role session signed it. */
  readonly roleArn: string | undefined;
  /** Secrets named by the request (SecretId, SecretIdList, or the RoleArn for AssumeRole). */
  readonly targets: readonly string[];
  readonly status: number;
  /** The AWS error code answered, or `ConnectionReset`. */
  readonly errorCode: string | undefined;
  /** How many secret values the answer carried. */
  readonly valuesTransferred: number;
  /** For AssumeRole. */
  readonly roleSessionName: string | undefined;
}

/** Every request the server saw, in order, with counting helpers for assertions and the benchmark. */
export class RequestLog {
  readonly entries: AwsRequestRecord[] = [];

  /** Records one request. */
  add(record: AwsRequestRecord): void {
    this.entries.push(record);
  }

  /** How many requests were made for `action` (all actions when omitted), optionally only successful ones. */
  count(action?: string, options: { readonly ok?: boolean } = {}): number {
    return this.entries.filter((entry) => (action === undefined || entry.action === action) && (options.ok === undefined || (entry.status === 200) === options.ok)).length;
  }

  /** How many secret values all answers carried together. */
  valuesTransferred(): number {
    return this.entries.reduce((sum, entry) => sum + entry.valuesTransferred, 0);
  }

  /** Forgets everything recorded so far (for measuring one phase). */
  clear(): void {
    this.entries.length = 0;
  }
}
