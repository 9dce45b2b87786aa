// `npm run example`: starts the example app as the frontend, as a worker and
// as the worker pool "finance", each through secretvisor with --once.
// Git does not keep file modes, so the secret files are made 0600 first —
// secretvisor refuses secret files that others can read.
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = fileURLToPath(new URL('../../dist/secretvisor.cjs', import.meta.url));

const tighten = (path) => {
  if (statSync(path).isDirectory()) {
    chmodSync(path, 0o700);
    for (const name of readdirSync(path)) tighten(join(path, name));
  } else {
    chmodSync(path, 0o600);
  }
};
tighten(join(here, 'secrets'));

const runs = [
  ['frontend', []],
  ['worker', []],
  ['worker', ['--pool', 'finance']],
];
let failed = 0;
for (const [service, extra] of runs) {
  const label = [service, ...extra.slice(1)].join('/');
  const result = spawnSync(
    process.execPath,
    [cli, 'run', '--once', '--log-level', 'warn', '--config', join(here, 'secretvisor.yaml'), '--service', service, ...extra, '--', process.execPath, join(here, 'app.mjs'), label],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) failed = result.status ?? 1;
}
process.exit(failed);
