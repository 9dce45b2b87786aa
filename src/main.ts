import './early-signals.js';
import { runCli } from './cli.js';

// No top-level await: the build ships this as a classic script so that V8's
// code cache can be used (see scripts/build.mjs).
void runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stderrIsTTY: process.stderr.isTTY ?? false,
}).then((code) => {
  // Watchers and timers may still hold the event loop; the supervisor has
  // already stopped the child and cleaned up by the time it returns.
  process.exit(code);
});
