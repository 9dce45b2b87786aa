import { getObject } from './json-fields.js';

// Vault (and OpenBao) wrap a handler's errors in go-multierror's text: "1 error occurred:\n\t* permission denied\n\n".
const MULTI_ERROR = /^\s*\d+ errors? occurred:\s*/;

/**
 * The text of a Vault error answer worth showing: Vault's first error
 * without go-multierror's "1 error occurred: *" wrapping, and, for a KV v2
 * read of a version that was deleted or destroyed (a 404 whose body still
 * holds that version's metadata), which version and what happened to it.
 */
export function describeErrorAnswer(status: number, message: string, body: unknown): string {
  const text = message
    .replace(MULTI_ERROR, '\n')
    .split(/\n\s*\*\s*/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join('; ');
  if (status !== 404) return text;
  const metadata = getObject(getObject(body, 'data'), 'metadata');
  if (metadata === undefined) return text;
  const version = typeof metadata.version === 'number' ? `version ${metadata.version}` : 'the current version';
  if (metadata.destroyed === true) return `${version} of the secret was destroyed`;
  if (typeof metadata.deletion_time === 'string' && metadata.deletion_time !== '') return `${version} of the secret was deleted at ${metadata.deletion_time}`;
  return text;
}
