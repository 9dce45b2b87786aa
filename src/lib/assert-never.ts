/**
 * Ends an exhaustive `switch`: the compiler proves the call unreachable, and
 * at run time a value that slipped past the types throws `what: value`.
 */
export function assertNever(value: never, what: string): never {
  throw new Error(`${what}: ${JSON.stringify(value)}`);
}
