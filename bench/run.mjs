// `npm run bench` (after `npm run build`): bundles the TypeScript bench
// (bench/main.ts, which imports src/ and the test servers) with esbuild into
// bench/results/.build/, then runs it from the repository root.
//
//   npm run bench                      the whole report (about 2½ minutes)
//   BENCH_QUICK=1 npm run bench        10 s idle window, fewer rounds (about 1 minute)
//   npm run bench -- --update-readme   also rewrite README.md's bench section
//   npm run bench:readme               rewrite that section from bench/results/latest.md
//   npm run bench -- --only startup,rotation   (startup, resident, health, rotation, scale, vault, aws)
//   BENCH_CLI=/path/to/secretvisor.cjs npm run bench   measure another build
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = dirname(import.meta.dirname);
const outfile = join(root, 'bench', 'results', '.build', 'bench.mjs');
mkdirSync(dirname(outfile), { recursive: true });
await build({
  entryPoints: [join(root, 'bench', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
process.chdir(root);
const { runBench } = await import(pathToFileURL(outfile).href);
process.exitCode = await runBench(process.argv.slice(2));
