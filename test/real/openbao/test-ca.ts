import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of a CA made by the test and of a server certificate for 127.0.0.1 it signed. */
export interface TestPki {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Another CA that signed nothing here: trusting it must fail. */
  readonly otherCaFile: string;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}.pem`);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=secretvisor test ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    dir,
  );
  return { cert, key };
}

/** A CA, a server key and certificate for IP 127.0.0.1 signed by it (made with openssl), and an unrelated CA. */
export function makeTestPki(dir: string): TestPki {
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  const keyFile = join(dir, 'server-key.pem');
  const csr = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const extensions = join(dir, 'server.ext');
  writeFileSync(extensions, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', keyFile, '-out', csr], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-extfile', extensions, '-out', certFile], dir);
  chmodSync(keyFile, 0o600);
  return { caFile: ca.cert, certFile, keyFile, otherCaFile: other.cert };
}
