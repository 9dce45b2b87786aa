import './early-signals.js';
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stderrIsTTY: process.stderr.isTTY ?? false,
});
// Watchers and timers may still hold the event loop; the supervisor has
// already stopped the child and cleaned up by the time it returns.
process.exit(code);
