/** One line of the benchmark table: a figure, its baseline from the same run, and the target. */
export interface BenchRow {
  readonly figure: string;
  readonly value: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  /** Whether the target was met; undefined where there is no target. */
  readonly met: boolean | undefined;
}
