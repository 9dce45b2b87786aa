import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { watchPaths, type PathWatch } from '../watch/file-watcher.js';
import type { PathKind } from '../watch/stat-signature.js';
import type { SecretSource } from './source.js';

/** What a file source needs to be watched. */
export interface WatchFileSourceOptions {
  readonly path: string;
  readonly kind: PathKind;
  readonly refreshMs: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The `watch` and `close` of a file source: one path watch, started once, stopped on close. */
export function watchFileSource(options: WatchFileSourceOptions): Pick<SecretSource, 'watch' | 'close'> {
  let watching: PathWatch | undefined;
  return {
    watch(onDue) {
      watching ??= watchPaths({ paths: [options.path], kind: options.kind, refreshMs: options.refreshMs, clock: options.clock, log: options.log, onChange: onDue });
      return watching.ready;
    },
    async close() {
      await watching?.close();
      watching = undefined;
    },
  };
}
