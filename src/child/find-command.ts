import { statSync } from 'node:fs';
import { SecretvisorError, ExitCode } from '../errors.js';
import { findOnPath, isExecutable } from '../lib/find-on-path.js';

/**
 * Resolves a command the way a shell does, against secretvisor's own PATH
 * (the child's environment may not have one). Not found is exit 127; found
 * but not executable is exit 126.
 */
export function findCommand(command: string, path: string | undefined): string {
  if (command.includes('/')) {
    validateExecutable(command, command);
    return command;
  }
  const { found, unusable } = findOnPath(command, path);
  if (found !== undefined) return found;
  if (unusable !== undefined) validateExecutable(unusable, command);
  throw new SecretvisorError(ExitCode.notFound, `command not found: ${command}`, {
    hint: 'check the spelling, install it, or give its full path',
  });
}

function validateExecutable(path: string, command: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw new SecretvisorError(ExitCode.notFound, `command not found: ${command}`, { hint: 'check the path' });
  }
  if (isDirectory || !isExecutable(path)) {
    throw new SecretvisorError(ExitCode.cannotExecute, `cannot execute ${path}: ${isDirectory ? 'it is a folder' : 'permission denied'}`, {
      hint: isDirectory ? 'name the program, not its folder' : `chmod +x '${path}'`,
    });
  }
}
