/** Writes src/config/generated/config-validator.js from the config schema; resolves with its path. */
export function generateConfigValidator(): Promise<string>;
