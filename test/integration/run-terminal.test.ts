import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, RunningCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';

const COUNT_SIGINT = fileURLToPath(new URL('../fixtures/count-sigint.mjs', import.meta.url));
const SCRIPT = '/usr/bin/script';

describe('in a terminal (interactive dev use)', () => {
  it.skipIf(!existsSync(SCRIPT))('lets Ctrl-C reach the child once, not twice, and exits with its code', async () => {
    const dir = makeProject({ '.env': 'A=1\n' });
    const command = `${process.execPath} ${CLI} run --log-format json -- ${process.execPath} ${COUNT_SIGINT}`;
    // script(1) gives secretvisor a real pseudo-terminal; the child stays in its foreground group.
    const terminal = new RunningCli(spawn(SCRIPT, ['-qfec', command, '/dev/null'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] }));
    await terminal.waitForStdout('ready');
    terminal.process.stdin?.write('\x03');
    const result = await terminal.exited();
    expect(result.stdout).toContain('SIGINT 1');
    expect(result.stdout).not.toContain('SIGINT 2');
    expect(result.stdout).toContain('none (the terminal sent SIGINT)');
    expect(result.code).toBe(130);
  });
});
