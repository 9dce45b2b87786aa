import type { CommandContext } from './context.js';

/** `secretvisor schema`: prints the config file's JSON Schema, generated from the one schema that validates it. */
export async function schemaCommand(context: CommandContext<'schema'>): Promise<number> {
  const { configJsonSchema } = await import('../config/known-keys.js');
  const schema = { $id: 'https://secretvisor.dev/schema/config-v1.json', title: 'secretvisor config', ...configJsonSchema() };
  context.stdout.write(JSON.stringify(schema, null, 2) + '\n');
  return 0;
}
