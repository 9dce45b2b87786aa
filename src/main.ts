import './early-signals.js';
import { isatty } from 'node:tty';
import { runCli } from './cli.js';

// No top-level await: the build ships this as a classic script so that V8's
// code cache can be used (see scripts/build.mjs).
void runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  // Node makes process.stdout and process.stderr on first use (a socket under
  // systemd); `run` logs through fd 2 and never needs either.
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  stderrIsTTY: isatty(2),
}).then((code) => {
  // Watchers and timers may still hold the event loop; the supervisor has
  // already stopped the child and cleaned up by the time it returns.
  process.exit(code);
});
