// The example service in the image: prints which secrets it received —
// names and lengths, never values — and its place in the process tree, then
// runs until SIGTERM, which it answers by exiting 0.
import { readFileSync } from 'node:fs';

const names = ['DATABASE_URL', 'DB_PASSWORD', 'REDIS_URL', 'LLM_API_KEY', 'MAPS_API_KEY', 'BANKING_API_TOKEN'];
const seen = names.map((name) => `${name}=${process.env[name] === undefined ? '-' : `(${process.env[name].length} chars)`}`);
const parent = readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim();
process.stdout.write(`app pid ${process.pid} (parent: ${parent}) sees ${seen.join(' ')}\n`);

process.on('SIGHUP', () => process.stdout.write('app reloading\n'));
process.on('SIGTERM', () => {
  process.stdout.write('app stopping\n');
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
