import { findConfig } from '../config/find-config.js';
import type { CommandContext } from './context.js';
import { auditExitCode } from '../audit/audit-report.js';
import { formatAuditJson, formatAuditTable } from '../audit/format-audit.js';
import { DEFAULT_MAX_AGE, parseMaxAge } from '../audit/max-age.js';
import { runAudit } from '../audit/run-audit.js';

/**
 * `secretvisor audit`: checks every source of the config — permissions of
 * secret files and folders, age of every secret, stray `.env` files others
 * can read — and prints a report without any value. Exit 0 when all is
 * well, 77 for permission findings, the source's code (69, 65, …) when one
 * cannot be read, and 1 when only rotation age needs attention.
 */
export async function auditCommand(context: CommandContext<'audit'>): Promise<number> {
  const format = context.options.format ?? 'table';
  const maxAgeMs = parseMaxAge(context.options['max-age'] ?? DEFAULT_MAX_AGE);
  const config = await findConfig({ file: context.configFile, cwd: context.cwd, env: context.env });
  const report = await runAudit({ config, env: context.env, cwd: context.cwd, log: context.log, clock: context.clock, maxAgeMs });
  context.stdout.write(format === 'json' ? formatAuditJson(report) : formatAuditTable(report));
  return auditExitCode(report.findings);
}
