import type { ChildExit } from '../../src/child/exit-code.js';
import type { ChildSpec, RunningChild, StopOptions } from '../../src/child/start-child.js';

// Far above any real pid (pid_max is at most 2^22), so /proc never describes them.
let nextPid = 10_000_000;

/**
 * A child process that a test drives: it "runs" until {@link FakeChild.exit}
 * is called, records the signals and stops it gets, and ends on its stop
 * signal unless `holdStop` keeps it running (a slow stop).
 */
export class FakeChild implements RunningChild {
  readonly pid = nextPid++;
  readonly started = Promise.resolve(true);
  readonly exited: Promise<ChildExit>;
  readonly spec: ChildSpec;
  readonly signals: NodeJS.Signals[] = [];
  readonly stops: StopOptions[] = [];
  holdStop = false;
  hasExited = false;
  #resolve!: (exit: ChildExit) => void;

  constructor(spec: ChildSpec) {
    this.spec = spec;
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Ends the child, as if it exited by itself or after a signal. */
  exit(exit: ChildExit = { code: 0, signal: null }): void {
    if (this.hasExited) return;
    this.hasExited = true;
    this.#resolve(exit);
  }

  signal(signal: NodeJS.Signals): void {
    this.signals.push(signal);
  }

  /** A fake child leaves nothing running behind it. */
  leftovers(): number[] {
    return [];
  }

  stop(options: StopOptions): Promise<ChildExit> {
    this.stops.push(options);
    if (!this.holdStop) this.exit(options.signal === undefined ? { code: 130, signal: null } : { code: null, signal: options.signal });
    return this.exited;
  }
}

/** A spawn that makes {@link FakeChild}ren and fails the test if one starts while another still runs. */
export function fakeSpawn(): { readonly spawn: (spec: ChildSpec) => FakeChild; readonly children: FakeChild[]; readonly overlaps: number[] } {
  const children: FakeChild[] = [];
  const overlaps: number[] = [];
  return {
    children,
    overlaps,
    spawn(spec) {
      const running = children.filter((child) => !child.hasExited);
      if (running.length > 0) overlaps.push(...running.map((child) => child.pid));
      const child = new FakeChild(spec);
      children.push(child);
      return child;
    },
  };
}
