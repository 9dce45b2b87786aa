// A small HTTP service that accepts a request only when it carries one of the
// API keys listed, one per line, in the file named by AUTH_KEYS_PATH. On
// SIGHUP it re-reads that file, so keys rotate without a restart and without
// dropping a connection. No dependencies: node server.mjs, under secretvisor.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const keysPath = process.env.AUTH_KEYS_PATH;
if (!keysPath) {
  console.error('AUTH_KEYS_PATH is not set: start me with `secretvisor run -- node server.mjs`');
  process.exit(78);
}

// Keys are kept as SHA-256 digests: equal lengths for timingSafeEqual, and no plain key in a heap dump.
const digest = (text) => createHash('sha256').update(text).digest();
let keys = [];

function loadKeys() {
  const lines = readFileSync(keysPath, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw new Error(`${keysPath} lists no key`);
  keys = lines.map(digest);
  console.log(`loaded ${keys.length} API key(s) from ${keysPath}`);
}

function isAuthorized(header) {
  const match = /^Bearer (\S+)$/.exec(header ?? '');
  if (match === null) return false;
  const offered = digest(match[1]);
  // Compare with every key, so the time taken does not tell which one matched.
  return keys.reduce((found, key) => timingSafeEqual(key, offered) || found, false);
}

loadKeys();
process.on('SIGHUP', () => {
  try {
    loadKeys();
  } catch (error) {
    // A bad file must not lock every client out: keep serving with the keys we had.
    console.error(`keeping the ${keys.length} key(s) loaded before: ${error.message}`);
  }
});

const server = createServer((request, response) => {
  if (!isAuthorized(request.headers.authorization)) {
    response.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' }).end('unauthorized\n');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain' }).end('hello, authenticated client\n');
});

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
