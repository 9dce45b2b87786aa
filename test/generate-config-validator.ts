import { generateConfigValidator } from '../scripts/config-validator.mjs';

/** vitest global setup: the config validator is generated from the schema, as the build does. */
export default async function setup(): Promise<void> {
  await generateConfigValidator();
}
