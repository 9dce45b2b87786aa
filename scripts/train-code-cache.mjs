// Runs the bundled CLI once, exactly as dist/secretvisor.cjs does, and at
// exit writes V8's code cache for everything compiled so far — the
// top-level code and each function the command ran. Given the cache of a
// previous run (--in), those functions come back compiled and stay in the
// new cache, so a chain of runs covers several commands.
//
//   node scripts/train-code-cache.mjs --bundle dist/secretvisor.bundle.js [--in A.cache] --out B.cache -- ARGV...
//   node scripts/train-code-cache.mjs --bundle dist/secretvisor.bundle.js --in A.cache --check
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Script } from 'node:vm';
import { parseArgs } from 'node:util';
import { LOADER_FILE } from './bundle-wrapper.mjs';

const { values, positionals } = parseArgs({
  options: { bundle: { type: 'string' }, in: { type: 'string' }, out: { type: 'string' }, check: { type: 'boolean' } },
  allowPositionals: true,
});
if (values.bundle === undefined) throw new Error('--bundle is required');
const file = resolve(values.bundle);
const dir = dirname(file);
const source = readFileSync(file, 'latin1');
const cachedData = values.in === undefined ? undefined : readFileSync(values.in);
const script = new Script(source, { filename: file, cachedData });

if (values.check) {
  process.stdout.write(JSON.stringify({ accepted: cachedData !== undefined && !script.cachedDataRejected }) + '\n');
} else {
  if (values.out === undefined) throw new Error('--out is required');
  const out = values.out;
  // The bundle ends every command with process.exit; 'exit' listeners still run synchronously.
  process.on('exit', () => writeFileSync(out, script.createCachedData()));
  process.argv = [process.execPath, resolve(dir, LOADER_FILE), ...positionals];
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
}
