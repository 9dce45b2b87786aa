// How dist/ is laid out, shared by the build and the code-cache trainer.

/**
 * The bundle is stored as one function expression, Node's own CommonJS
 * wrapper around esbuild's output, so the loader compiles the file exactly
 * as read: no second 1 MB copy of the source (~2 MB less peak RSS), and
 * the trainer cannot build a different string by mistake.
 */
export const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) {';
export const WRAPPER_TAIL = '\n})';

/** File names inside dist/. */
export const BUNDLE_FILE = 'secretvisor.bundle.js';
export const LOADER_FILE = 'secretvisor.cjs';

/**
 * The code cache of one bundle, named by the bundle's content hash. V8
 * accepts a cache for any source of the same length and would then run
 * the cached (old) code, so a cache must never outlive its bundle.
 */
export function cacheFileName(bundleHash) {
  return `secretvisor.${bundleHash}.cache`;
}
