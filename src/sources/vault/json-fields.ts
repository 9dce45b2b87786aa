// Vault's answers are untyped JSON; these read one field with its expected type.

/** `response[key]` when it is a JSON object. */
export function getObject(response: unknown, key: string): Record<string, unknown> | undefined {
  const value = (response as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `object[key]` when it is a non-negative number, else 0. */
export function getNumber(object: Record<string, unknown> | undefined, key: string): number {
  const value = object?.[key];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
