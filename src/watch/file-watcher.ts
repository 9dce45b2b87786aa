import { watch, type FSWatcher } from 'chokidar';
import { SingleTimer, repeatOn, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { watchEntry, whenReady, type EntryWatch } from './folder-watchers.js';
import { statSignature, type PathKind } from './stat-signature.js';

/** Options of {@link watchPaths}. */
export interface WatchPathsOptions {
  /** Files or folders whose content matters. */
  readonly paths: readonly string[];
  /** Whether the paths are files or folders of files. */
  readonly kind: PathKind;
  /**
   * This often, compare what is on disk with the last look (stats only), for
   * events the kernel lost (inotify limits are per user).
   */
  readonly refreshMs: number;
  /** The clock the settle and periodic checks run on. */
  readonly clock: Clock;
  readonly log: Logger;
  /** Called with a reason on every event; the caller debounces and re-reads. */
  readonly onChange: (reason: string) => void;
}

/** A running watch; `ready` resolves once every watcher has its initial scan done. */
export interface PathWatch {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

const POLL_INTERVAL_MS = 1_000;

/**
 * After the kernel reports anything in a watched folder, compare the disk with
 * the last look this much later. chokidar drops events that follow another
 * for the same path within its throttle windows (a second `change` within
 * 50 ms, a second removal within 100 ms — a file replaced twice in quick
 * succession is then never seen again; chokidar#1455), with no trailing event.
 * The kernel's raw events are not throttled, so a check after each burst of
 * them catches what chokidar dropped; it must come after the longest window.
 */
const SETTLE_CHECK_MS = 300;

/**
 * Watches each path through its parent folder (one watcher per folder, shared
 * with the other paths watched there), so every way a file really changes is
 * seen: writes in place, replacement by rename, deletion and re-creation, a
 * folder removed and made again. A watched folder is also
 * watched inside (one level: a Kubernetes `..data` swap shows there). When
 * the kernel refuses more watches, it falls back to polling. Every
 * `refreshMs` a stat fingerprint catches what events missed.
 */
export function watchPaths(options: WatchPathsOptions): PathWatch {
  let usePolling = false;
  let entryWatches: EntryWatch[] = [];
  const insideWatchers = new Map<string, FSWatcher>();
  let closed = false;

  let markReady = (): void => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  // The kernel refuses watches during the first scan, so watchers closed for
  // the fall back to polling never get ready: the polling ones' scan counts.
  const start = (): void => {
    entryWatches = options.paths.map(watchThroughParent);
    // A file is seen whole through its parent; only a folder needs a look inside.
    if (options.kind === 'folder') for (const path of options.paths) insideWatchers.set(path, watchInside(path));
    void Promise.all([...entryWatches.map((entry) => entry.ready), ...[...insideWatchers.values()].map(whenReady)]).then(markReady);
  };

  // A folder that was removed and made again is a new inode: watch it afresh.
  const rearmInside = (path: string): void => {
    const old = insideWatchers.get(path);
    insideWatchers.set(path, watchInside(path));
    void old?.close();
  };

  const onEvent = (event: string, changed: string): void => {
    armSettleCheck();
    options.onChange(`${event} ${changed}`);
  };

  const watchThroughParent = (path: string): EntryWatch =>
    watchEntry(
      path,
      { usePolling, intervalMs: POLL_INTERVAL_MS },
      {
        onEvent(event, changed) {
          if (event === 'addDir' && changed === path && !closed && options.kind === 'folder') rearmInside(path);
          onEvent(event, changed);
        },
        onRaw: armSettleCheck,
        onError: (error) => void handleError(error, path),
      },
    );

  const watchInside = (path: string): FSWatcher => {
    const watcher = watch(path, { ignoreInitial: true, depth: 0, usePolling, interval: POLL_INTERVAL_MS, followSymlinks: false });
    watcher.on('raw', armSettleCheck);
    watcher.on('all', onEvent);
    watcher.on('error', (error) => void handleError(error as NodeJS.ErrnoException, path));
    return watcher;
  };

  const handleError = async (error: NodeJS.ErrnoException, path: string): Promise<void> => {
    if (closed) return;
    if (!usePolling && (error.code === 'ENOSPC' || error.code === 'EMFILE')) {
      options.log.warn({ path, code: error.code }, 'the kernel refused more file watches; falling back to polling every 1s');
      usePolling = true;
      await closeAll();
      start();
      options.onChange('watcher fell back to polling');
      return;
    }
    options.log.warn({ path, code: error.code }, `file watcher error on ${path}: ${error.message}`);
  };

  const closeAll = async (): Promise<void> => {
    const entries = entryWatches;
    const inside = [...insideWatchers.values()];
    entryWatches = [];
    insideWatchers.clear();
    await Promise.all([...entries.map((entry) => entry.close()), ...inside.map((watcher) => watcher.close())]);
  };

  const fingerprint = (): Promise<string> => Promise.all(options.paths.map((path) => statSignature(path, options.kind))).then((parts) => parts.join('\n'));
  let lastFingerprint = fingerprint();
  const compareWithDisk = async (check: string): Promise<void> => {
    const [before, now] = await Promise.all([lastFingerprint, fingerprint()]);
    lastFingerprint = Promise.resolve(now);
    if (closed) return;
    if (now !== before) options.onChange(`${check}: changed on disk`);
    else options.log.trace({ paths: options.paths }, `${check}: unchanged on disk`);
  };

  // Armed once per burst (not pushed back by each event), so a folder that never goes quiet is still checked.
  const settleTimer = new SingleTimer(options.clock, { keepAlive: false });
  function armSettleCheck(): void {
    if (settleTimer.pending || closed) return;
    settleTimer.schedule(SETTLE_CHECK_MS, () => void compareWithDisk('settle check'));
  }

  start();
  const periodicTimer = repeatOn(options.clock, options.refreshMs, () => void compareWithDisk('periodic check'));

  return {
    ready,
    async close() {
      closed = true;
      periodicTimer.cancel();
      settleTimer.cancel();
      await closeAll();
    },
  };
}
