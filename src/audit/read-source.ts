import { deadlineOn, type Clock } from '../clock.js';
import type { SourceConfig } from '../config/config.js';
import { ExitCode, SecretDataError, SecretvisorError } from '../errors.js';
import type { Logger } from '../log.js';
import { createSource } from '../sources/create-source.js';
import { shapeKeys } from '../sources/shape-keys.js';
import type { SecretSource } from '../sources/source.js';
import type { AuditFinding } from './audit-report.js';

/** What one read needs besides the source's config. */
export interface ReadOptions {
  /** secretvisor's own environment (VAULT_ADDR, AWS_*, HOME). */
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** How long the read may take: the config's startup.timeout, on this clock. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** No config file: fixes name the environment, not config keys. */
  readonly zeroConfig: boolean;
}

/** The verdict of one read: the secret's last change where the source knows it, or what went wrong. */
export type ReadVerdict = { readonly updatedAt: Date | undefined } | { readonly finding: AuditFinding };

/**
 * Reads a source once and shapes its keys into env names, exactly as `check`
 * does, so that whatever would stop `check` or `run` — a line that is not
 * KEY=value, an unclosed quote, a key that is no env name or is refused
 * (LD_PRELOAD) — stops the audit too. Values are dropped at once; a failure
 * becomes a finding, never an exception.
 */
export async function readSource(config: SourceConfig, options: ReadOptions): Promise<ReadVerdict> {
  let source: SecretSource | undefined;
  const log = options.log.child({ component: `source:${config.name}` });
  const deadline = deadlineOn(options.clock, options.timeoutMs);
  try {
    source = await createSource({ config, log, clock: options.clock, env: options.env, service: undefined, pool: undefined, zeroConfig: options.zeroConfig });
    const snapshot = await source.read(deadline.signal);
    shapeKeys(config, snapshot, log);
    return { updatedAt: snapshot.updatedAt };
  } catch (error) {
    return { finding: toFinding(config, error) };
  } finally {
    deadline.cancel();
    await source?.close().catch(() => undefined);
  }
}

function toFinding(config: SourceConfig, error: unknown): AuditFinding {
  if (error instanceof SecretDataError) {
    // A dotenv source is one file; a directory source's error names the key, and the finding then marks all its keys.
    const path = config.type === 'dotenv' ? config.path : undefined;
    return { kind: 'data', source: config.name, path, problem: error.message, fix: error.hint ?? 'fix the data the source holds', exitCode: error.exitCode };
  }
  const known = error instanceof SecretvisorError;
  return {
    kind: 'unreadable',
    source: config.name,
    path: undefined,
    // secretvisor's own errors name the source already.
    problem: known ? error.message : `source "${config.name}" could not be read: ${error instanceof Error ? error.message : String(error)}`,
    fix: known && error.hint !== undefined ? error.hint : 'run secretvisor check with --log-level debug for details',
    exitCode: known ? error.exitCode : ExitCode.failure,
  };
}
