// Bundles the CLI into one ESM file: one file to read and compile is the
// cheapest start-up Node offers. The Vault and AWS clients stay external and
// are imported lazily, only when a config uses them.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/secretvisor.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  minifySyntax: true,
  legalComments: 'none',
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __svCreateRequire } from 'node:module'; const require = __svCreateRequire(import.meta.url);",
  },
  external: ['node-vault', '@aws-sdk/*', 'pino-pretty'],
  define: { 'process.env.SECRETVISOR_BUILD_VERSION': JSON.stringify(version) },
  logLevel: 'warning',
});
chmodSync('dist/secretvisor.mjs', 0o755);
