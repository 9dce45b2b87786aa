// Builds dist/ for the fastest start Node 20 allows:
//
//   secretvisor.bundle.js    the whole CLI, bundled by esbuild as CommonJS and stored
//                            as one function expression (the Vault and AWS clients
//                            stay external and are required lazily, only when a
//                            config uses them; so does zod, only for a refused config)
//   secretvisor.<hash>.cache V8's code cache for that bundle, made here by running
//                            each command once (scripts/train-code-cache.mjs)
//   (src/config/generated/config-validator.js, bundled: the config schema as an
//   ajv standalone validator, so a start does not evaluate zod; scripts/config-validator.mjs)
//   secretvisor.cjs          the `bin`: compiles the bundle as a classic script with
//                            that cache and runs it (scripts/loader.template.cjs)
//
// Node 20 cannot cache compiled ES modules (module.enableCompileCache came in
// Node 22), but vm.Script takes V8 code cache. On the bench machine, `run
// --once` with 50 file secrets went from ~160 ms (ESM bundle) to ~105 ms:
// parsing and compiling the bundle was most of the difference. See the
// README's Performance section for what each step bought.
//
//   node scripts/build.mjs [--no-code-cache]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUNDLE_FILE, LOADER_FILE, WRAPPER_HEAD, WRAPPER_TAIL, cacheFileName } from './bundle-wrapper.mjs';
import { generateConfigValidator } from './config-validator.mjs';

const DIST = resolve('dist');
const TRAINER = resolve('scripts/train-code-cache.mjs');
const withCodeCache = !process.argv.includes('--no-code-cache');
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

// The config validator `run` uses instead of zod, compiled from the schema as it is now.
await generateConfigValidator();

const result = await build({
  entryPoints: ['src/main.ts'],
  outfile: join(DIST, BUNDLE_FILE),
  write: false,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20.19',
  minifySyntax: true,
  // Drops comments (some carry non-ASCII text) and a quarter of the bytes to read; names stay readable in stack traces.
  minifyWhitespace: true,
  legalComments: 'none',
  // ASCII only, so the loader can read it as latin1, the cheapest one-byte string (checked below).
  charset: 'ascii',
  // ES modules are strict; the bundle keeps that. log.ts uses import.meta.url to find pino-pretty.
  banner: { js: '"use strict";\nvar __svImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: {
    'process.env.SECRETVISOR_BUILD_VERSION': JSON.stringify(version),
    'import.meta.url': '__svImportMetaUrl',
  },
  // zod words the errors of a config the generated validator refuses, and serves `schema`: on
  // the happy path it is never required, so it stays out of the bundle and its code cache
  // (~35 % of the bundle's bytes; -8 % start-up, -2 MB peak RSS of `run --once`).
  external: ['@aws-sdk/*', 'pino-pretty', 'prom-client', 'zod'],
  // import() of the external clients becomes a lazy require(): code compiled by
  // vm.Script has no module loader to call for import().
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
});

const body = result.outputFiles[0]?.text ?? '';
const nonAscii = /[^\x00-\x7f]/.exec(body);
if (nonAscii !== null) throw new Error(`the bundle has a non-ASCII character at offset ${nonAscii.index}; the loader reads it as latin1`);
if (/[^\w$.]import\(/.test(body)) throw new Error('the bundle still calls import(), which fails under vm.Script; see `supported` above');
const hash = createHash('sha256').update(body).digest('hex').slice(0, 20);
const header = `// secretvisor bundle ${hash}\n`;
const cacheName = cacheFileName(hash);

mkdirSync(DIST, { recursive: true });
writeAtomically(join(DIST, BUNDLE_FILE), header + WRAPPER_HEAD + body + WRAPPER_TAIL);
if (withCodeCache) {
  const made = trainCodeCache(join(DIST, BUNDLE_FILE));
  if (made === undefined) console.warn('build: no code cache made; secretvisor still works, it only starts slower');
  else writeAtomically(join(DIST, cacheName), made);
}
writeAtomically(join(DIST, LOADER_FILE), loaderSource(), 0o755);
// Earlier builds' caches and bundles (another build's .tmp files are left alone).
const current = new Set([BUNDLE_FILE, LOADER_FILE, cacheName]);
for (const name of readdirSync(DIST)) {
  if (name.startsWith('secretvisor.') && !name.endsWith('.tmp') && !current.has(name)) rmSync(join(DIST, name), { force: true });
}

function loaderSource() {
  const values = {
    BUNDLE_HEADER: header,
    BUNDLE_FILE,
    CACHE_FILE: cacheName,
  };
  let text = readFileSync('scripts/loader.template.cjs', 'utf8');
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`'@@${name}@@'`, JSON.stringify(value));
  if (text.includes('@@')) throw new Error('scripts/loader.template.cjs has a placeholder the build does not fill');
  return text;
}

/** Writes next to the target, then renames: a CLI starting meanwhile (tests, other builds) never reads half a file. */
function writeAtomically(path, content, mode = 0o644) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

/**
 * Runs the commands a service start uses (and the others, once each) in a
 * throw-away project, each run starting from the previous run's cache, and
 * returns the final cache — or undefined, with a warning, when anything
 * goes wrong or V8 would not take the cache back.
 */
function trainCodeCache(bundle) {
  const work = mkdtempSync(join(tmpdir(), 'secretvisor-build-'));
  try {
    const { project, zeroConfig, out } = makeTrainingProject(work);
    const child = existsSync('/bin/true') ? ['/bin/true'] : [process.execPath, '-e', '0'];
    const steps = [
      { cwd: work, argv: ['--version'] },
      { cwd: work, argv: ['--help'] },
      { cwd: work, argv: ['schema'] },
      { cwd: project, argv: ['check', '--service', 'worker', '--pool', 'finance'] },
      { cwd: project, argv: ['env', '--service', 'worker', '--format', 'json'] },
      { cwd: project, argv: ['render', '--service', 'worker', '--out', out] },
      { cwd: zeroConfig, argv: ['run', '--once', '--', ...child] },
      { cwd: project, argv: ['run', '--once', '--service', 'worker', '--pool', 'finance', '--', ...child] },
    ];
    // Other V8 flags (NODE_OPTIONS) would make a cache the real runs refuse.
    const env = { PATH: process.env.PATH, HOME: work, TMPDIR: work, LANG: 'C' };
    let previous;
    for (const [index, step] of steps.entries()) {
      const next = join(work, `step-${index}.cache`);
      const args = [TRAINER, '--bundle', bundle, ...(previous === undefined ? [] : ['--in', previous]), '--out', next, '--', ...step.argv];
      const run = spawnSync(process.execPath, args, { cwd: step.cwd, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 30_000 });
      if (run.status !== 0 || !existsSync(next)) {
        console.warn(`build: training the code cache failed at \`secretvisor ${step.argv.join(' ')}\` (exit ${run.status ?? run.signal}):\n${run.stderr}`);
        return undefined;
      }
      previous = next;
    }
    const check = spawnSync(process.execPath, [TRAINER, '--bundle', bundle, '--in', previous, '--check'], { env, encoding: 'utf8' });
    if (!check.stdout.includes('"accepted":true')) {
      console.warn(`build: V8 refused the code cache it just made: ${check.stdout}${check.stderr}`);
      return undefined;
    }
    return readFileSync(previous);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A small project using every file-source feature, and a zero-config one; values are dummies. */
function makeTrainingProject(work) {
  const project = join(work, 'project');
  const zeroConfig = join(work, 'zero-config');
  mkdirSync(join(project, 'secrets'), { recursive: true, mode: 0o700 });
  mkdirSync(zeroConfig, { mode: 0o700 });
  const secret = (path, text) => writeFileSync(path, text, { mode: 0o600 });
  secret(join(project, 'app.env'), 'DB_USER=app\nDB_PASSWORD="training value"\nAPI_KEY=training\n');
  for (const name of ['TOKEN', 'api-key', 'TLS_KEY']) secret(join(project, 'secrets', name), `training-${name}\n`);
  secret(join(zeroConfig, '.env'), 'A=1\nB=two\n');
  secret(
    join(project, 'secretvisor.yaml'),
    [
      'version: 1',
      'sources:',
      '  app: { type: dotenv, path: ./app.env, required: [DB_USER] }',
      '  creds: { type: directory, path: ./secrets, upcase: true }',
      'scopes:',
      '  global: [app]',
      '  services: { worker: [creds] }',
      '  pools: { worker: { finance: [app] } }',
      'env:',
      '  DATABASE_URL: "postgres://{{secret.DB_USER}}:{{secret.DB_PASSWORD}}@db:5432/app"',
      'files:',
      '  - { path: api-key, template: "{{secret.API_KEY}}\\n", env: API_KEY_FILE }',
      'onChange: { debounce: 100ms }',
      '',
    ].join('\n'),
  );
  return { project, zeroConfig, out: join(work, 'out') };
}
