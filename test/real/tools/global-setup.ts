import { ensurePythonEnv } from './python-env.js';
import { requireAllSuites } from './require-tool.js';

/**
 * Vitest global set-up: installs the real servers' Python environment once per machine.
 * Where it cannot be installed, CI (which asks for every suite) fails here; elsewhere the real suites skip loudly.
 */
export default function setup(): void {
  try {
    ensurePythonEnv((line) => process.stderr.write(`${line}\n`));
  } catch (error) {
    if (requireAllSuites()) throw error;
    process.stderr.write(`real-tools: could not install the Python environment; the real-server suites will skip (${String(error)})\n`);
  }
}
