// A small HTTP service that takes its listening socket from secretvisor (or
// systemd) by the socket-activation protocol, and opens its own port when it
// is started without one. It stops gracefully on SIGTERM: it stops accepting,
// finishes the requests it has, then exits — the socket stays with
// secretvisor, so connections that arrive meanwhile wait for the next child.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const SOCKET_NAME = process.env.SOCKET_NAME ?? 'http';

/** The fd of the socket named SOCKET_NAME, when this process was given sockets (sd_listen_fds semantics). */
function activationFd() {
  // LISTEN_PID guards against variables meant for another process (a parent that leaked them).
  if (process.env.LISTEN_PID !== String(process.pid)) return undefined;
  const count = Number(process.env.LISTEN_FDS ?? 0);
  const names = (process.env.LISTEN_FDNAMES ?? '').split(':');
  const index = names.indexOf(SOCKET_NAME);
  if (count < 1) return undefined;
  return 3 + (index >= 0 && index < count ? index : 0);
}

// Identifies which secrets this instance runs with, without showing them.
const secretTag = createHash('sha256')
  .update(process.env.DB_PASSWORD ?? '')
  .digest('hex')
  .slice(0, 8);

const server = createServer((request, response) => {
  response.setHeader('connection', 'close');
  response.end(`ok pid=${process.pid} secrets=${secretTag}\n`);
});

const fd = activationFd();
if (fd === undefined) {
  const port = Number(process.env.PORT ?? 8080);
  server.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`listening on port ${port} (own socket), pid ${process.pid}`));
} else {
  server.listen({ fd }, () => {
    // For onChange.strategy overlap: a ready: command can tell this instance from the old one, which
    // answers on the same socket (docs/zero-downtime.md).
    if (process.env.STATE_DIR !== undefined) writeFileSync(join(process.env.STATE_DIR, `ready-${secretTag}`), '');
    console.log(`listening on fd ${fd} (held by secretvisor), pid ${process.pid}`);
  });
}

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
