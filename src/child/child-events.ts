import type { SecretValue } from '../secret-value.js';
import type { ReadinessConfig } from '../config/readiness-config.js';

/**
 * Why a child was started: the first start, a restart for new secrets, a
 * restart after it exited with a code (onExit: restart), or after it was
 * ended by a signal secretvisor did not send as a stop (the OOM killer, an
 * operator's `kill`, a reload signal it had no handler for).
 */
export type StartReason = 'initial' | 'rotation' | 'crash' | 'signal';

/**
 * Why a child ended, as secretvisor sees it: secretvisor stopped it
 * (`stopped`), replaced it for new secrets (`rotation`), it ended by itself
 * and is restarted (`crash`), or it ended by itself and secretvisor ends
 * with it (`exit`: onExit: exit, `--once`, or it could not start), or it
 * was the new child of an overlap rotation that exited or was not ready in
 * time, so the old one kept serving (`rejected`).
 */
export type ExitReason = 'stopped' | 'rotation' | 'crash' | 'exit' | 'rejected';

/**
 * What the child did, for health and metrics: each started child gets one
 * `child-started`, then one `child-ready` once it can serve (its readiness
 * check passed, or at once without one), and one `child-exited` when it has
 * ended. An overlap rotation whose new child failed ends with one
 * `rotation-rejected` after that child's `child-exited`: `keptPid` is the old
 * child that keeps serving on the previous secrets (undefined when it had
 * exited too). Events are sent synchronously, in that order, and never carry
 * a secret; a listener must not throw.
 */
export type ChildEvent =
  | { readonly type: 'child-started'; readonly pid: number; readonly reason: StartReason }
  | { readonly type: 'child-ready'; readonly pid: number }
  | {
      readonly type: 'child-exited';
      readonly pid: number;
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly reason: ExitReason;
    }
  | {
      readonly type: 'rotation-rejected';
      readonly rejectedPid: number | undefined;
      readonly keptPid: number | undefined;
      /** The sources whose change was rejected (names only). */
      readonly sources: readonly string[];
    };

/** What a child is started with; only the environment reaches the process. */
export interface ChildInput {
  /** The child's whole environment, nothing merged in. */
  readonly env: ReadonlyMap<string, SecretValue>;
  /** How many file outputs it has, for the start's log line. */
  readonly files: number;
}

/** A change of what the child receives, and how it takes it (onChange.env or onChange.files). */
export interface ChildChange {
  readonly action: 'restart' | 'signal' | 'none';
  /** The reload signals to send when `action` is signal, each once (a source's own onChange, else onChange.signal). */
  readonly signals: readonly NodeJS.Signals[];
  /** Whether the environment changed (a signalled child keeps its old one). */
  readonly envChanged: boolean;
  /** The sources that changed, for the log lines and a rejected rotation's event. */
  readonly sources: readonly string[];
  /** What changed (sources, names, files), for the log lines. */
  readonly context: object;
}

/** The settled rules of one child's lifecycle (config onChange/onExit, `--once`). */
export interface ChildPolicy {
  /** `exit`: when the child ends by itself, so does secretvisor (also `--once`). */
  readonly onExit: 'exit' | 'restart';
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  /** A restart for new secrets waits a random delay of up to this first. */
  readonly splayMs: number;
  /** restart: the old child ends before the new one starts; overlap: the new one must be ready before the old one is stopped (needs `ready`). */
  readonly strategy: 'restart' | 'overlap';
  /** The readiness check each new child must pass in time; undefined: ready once it runs. */
  readonly ready?: ReadinessConfig | undefined;
}
