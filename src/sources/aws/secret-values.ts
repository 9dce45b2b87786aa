import { SecretDataError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';

/** The value half of a GetSecretValue answer: exactly one of the two is set. */
export interface RawSecretValue {
  readonly secretString: string | undefined;
  readonly secretBinary: Uint8Array | undefined;
}

/** Which source and secret a value belongs to (for messages) and its configured `key`. */
export interface ValueTarget {
  readonly source: string;
  readonly secretId: string;
  /** The env name for a value that is not a JSON object. */
  readonly key: string | undefined;
}

/**
 * Turns a secret's value into source keys: a JSON-object SecretString gives
 * one key per field (a field that is not a string is passed as its JSON
 * text); any other SecretString gives the single key `key`; SecretBinary
 * gives `key` holding the bytes as base64. Without `key`, the last two are a
 * SecretDataError. Messages never include the value.
 */
export function mapSecretValue(value: RawSecretValue, target: ValueTarget): Map<string, SecretValue> {
  const where = `aws-secrets-manager source "${target.source}": secret "${target.secretId}"`;
  if (value.secretString !== undefined) {
    const fields = parseJsonObject(value.secretString);
    if (fields !== undefined) {
      return new Map(Object.entries(fields).map(([name, field]) => [name, new SecretValue(typeof field === 'string' ? field : JSON.stringify(field))]));
    }
    if (target.key === undefined) {
      throw new SecretDataError(`${where} holds a SecretString that is not a JSON object, so it has no key names`, {
        hint: 'set `key: ENV_NAME` on the source to receive the whole value under that name, or store the secret as a JSON object',
      });
    }
    return new Map([[target.key, new SecretValue(value.secretString)]]);
  }
  if (value.secretBinary !== undefined) {
    if (target.key === undefined) {
      throw new SecretDataError(`${where} holds a SecretBinary, which secretvisor passes only under a configured name`, {
        hint: 'set `key: ENV_NAME` on the source to receive the bytes base64-encoded under that name',
      });
    }
    return new Map([[target.key, new SecretValue(Buffer.from(value.secretBinary).toString('base64'))]]);
  }
  throw new SecretDataError(`${where} has neither a SecretString nor a SecretBinary`, {
    hint: 'store a value in the secret (PutSecretValue) or check `versionStage`',
  });
}

/** The fields of `text` when it is a JSON object; undefined otherwise (the parser's message is dropped: it may quote the value). */
function parseJsonObject(text: string): Readonly<Record<string, unknown>> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}
