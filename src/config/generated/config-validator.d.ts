/**
 * True when the config data is valid by the schema (src/config/schema.ts) and
 * zod would return it unchanged; false when zod must decide and word the
 * errors. The JavaScript is generated at build time by scripts/config-validator.mjs.
 */
declare function validate(data: unknown): boolean;
export default validate;
