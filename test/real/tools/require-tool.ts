import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';

/** Whether this run must run every suite (CI sets SECRETVISOR_TEST_ALL_SUITES=1): a missing tool then fails, never skips. */
export function requireAllSuites(): boolean {
  return process.env.SECRETVISOR_TEST_ALL_SUITES === '1';
}

/** The path of a program on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What a real-server suite needs: each tool's path (undefined when missing) and how to install it. */
export interface SuiteNeeds {
  readonly tools: Readonly<Record<string, string | undefined>>;
  readonly install: string;
}

/**
 * `describe` for a suite against real servers: runs when every tool it needs is there; otherwise fails
 * (in CI, where every suite must run) or skips with a loud line naming what is missing and how to install it.
 */
export function describeReal(name: string, needs: SuiteNeeds, body: () => void): void {
  const missing = Object.entries(needs.tools)
    .filter(([, path]) => path === undefined)
    .map(([tool]) => tool);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const why = `${name}: missing ${missing.join(', ')}; install with: ${needs.install}`;
  if (requireAllSuites()) {
    describe(name, () => {
      throw new Error(why);
    });
    return;
  }
  process.stderr.write(`\n*** SKIPPING real-server suite — ${why}\n`);
  describe.skip(name, body);
}
