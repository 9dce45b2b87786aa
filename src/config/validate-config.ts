import type { z } from 'zod';
import type { RawConfig } from './schema.js';
import validateConfigShape from './generated/config-validator.js';

/**
 * Validates config data as the schema (src/config/schema.ts) does, with the
 * same result. The validator generated from the schema at build time
 * (scripts/config-validator.mjs) passes only data that zod returns unchanged,
 * so zod — ~17 ms to load with the schema, on every start — runs only for
 * data that validator rejects: zod then decides, and its issues word the errors.
 */
export async function validateRawConfig(data: unknown): Promise<z.ZodSafeParseResult<RawConfig>> {
  if (validateConfigShape(data)) return { success: true, data: data as RawConfig };
  const { configSchema } = await import('./schema.js');
  return configSchema.safeParse(data, { reportInput: true });
}
