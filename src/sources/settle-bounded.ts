/** How many files a folder source opens at once: far below any `ulimit -n`, enough to keep the disk busy. */
export const FILE_CONCURRENCY = 32;

/**
 * Runs `task` on every item, at most `limit` at a time, waits for all of
 * them (none is left running), then returns the values in order or throws
 * the first failure in order — the same error whatever finished first.
 */
export async function settleBounded<T, R>(items: readonly T[], task: (item: T) => Promise<R>, limit = FILE_CONCURRENCY): Promise<R[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await task(items[index] as T) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}
