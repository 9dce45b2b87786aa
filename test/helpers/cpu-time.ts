/**
 * Measures the CPU time (user + system) this test process spends in `work`, in ms. Bounds on the cost of
 * an algorithm (one pass, not quadratic) hold on a loaded machine only when measured this way: wall time
 * also counts the time other processes had the cores.
 */
export async function cpuMsOf(work: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1_000;
}
