// A small HTTPS server that reads its certificate from the files secretvisor
// writes and loads them again on SIGHUP, without dropping its socket or its
// open connections. PORT picks the port (0: any free one).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { X509Certificate } from 'node:crypto';

const load = () => ({ cert: readFileSync(process.env.TLS_CERT_FILE), key: readFileSync(process.env.TLS_KEY_FILE) });
const describe = (context) => {
  const cert = new X509Certificate(context.cert);
  return `serial ${cert.serialNumber}, valid until ${cert.validTo}`;
};

const initial = load();
const server = createServer(initial, (request, response) => {
  response.end(`hello from pid ${process.pid}\n`);
});

process.on('SIGHUP', () => {
  try {
    const next = load();
    server.setSecureContext(next);
    console.log(`reloaded the certificate: ${describe(next)}`);
  } catch (error) {
    // A half-written pair never happens (secretvisor renames whole files into place); a broken one keeps the old context.
    console.error(`kept the previous certificate: ${error.message}`);
  }
});

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

server.listen(Number(process.env.PORT ?? 8443), '127.0.0.1', () => {
  console.log(`listening on https://127.0.0.1:${server.address().port} (pid ${process.pid}); ${describe(initial)}`);
});
