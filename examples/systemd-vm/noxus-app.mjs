#!/usr/bin/env node
// The example service, installed as /opt/noxus/bin/frontend, backend and
// worker: it logs which secrets it received — names and lengths, never
// values — then runs until SIGTERM. `journalctl -u 'secretvisor-*'` shows
// each service's view side by side.
import { basename } from 'node:path';

const role = basename(process.argv[1] ?? 'app');
const names = ['DATABASE_URL', 'DB_PASSWORD', 'REDIS_URL', 'AUTH_SIGNING_KEY', 'LLM_API_KEY', 'MAPS_API_KEY', 'BANKING_API_TOKEN'];
const seen = names.map((name) => `${name}=${process.env[name] === undefined ? '-' : `(${process.env[name].length} chars)`}`);
process.stdout.write(`${role} ${process.pid} started; sees ${seen.join(' ')}\n`);

process.on('SIGHUP', () => process.stdout.write(`${role} reloading\n`));
process.on('SIGTERM', () => {
  process.stdout.write(`${role} stopping\n`);
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
