import { z } from 'zod';
import { configSchema } from './schema.js';

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
};

/** The config file's JSON Schema (what `secretvisor schema` prints). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
}

/**
 * The keys the schema allows at `path` of `data`, for "did you mean"
 * suggestions. Built only when a config has an unknown key.
 */
export function knownKeysAt(data: unknown, path: readonly PropertyKey[]): string[] {
  let node: JsonSchema | undefined = configJsonSchema() as JsonSchema;
  let value: unknown = data;
  for (const part of path) {
    node = pickOption(node, value);
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[part] : undefined;
    if (node === undefined) return [];
    const next: JsonSchema | boolean | undefined = node.properties?.[String(part)] ?? node.items ?? node.additionalProperties;
    node = typeof next === 'object' ? next : undefined;
  }
  node = pickOption(node, value);
  return Object.keys(node?.properties ?? {});
}

/** For a union, the option whose constant fields (`type`, `method`) match the data. */
function pickOption(node: JsonSchema | undefined, value: unknown): JsonSchema | undefined {
  const options = node?.anyOf ?? node?.oneOf;
  if (options === undefined) return node;
  const record = (value ?? {}) as Record<string, unknown>;
  return options.find((option) => Object.entries(option.properties ?? {}).every(([key, field]) => field.const === undefined || field.const === record[key]));
}
