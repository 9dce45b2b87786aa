import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { TestPki } from './test-ca.js';
import { trackSecret } from '../../helpers/secrets.js';

/** A Kubernetes service account the test made a token for. */
export interface ServiceAccount {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** A signed service-account JWT, as the kubelet mounts it. */
  readonly jwt: string;
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/**
 * The slice of the Kubernetes API that OpenBao's kubernetes auth method
 * calls: `POST /apis/authentication.k8s.io/v1/tokenreviews`. It vouches
 * for the service-account tokens it made and for no others, and counts
 * the reviews, so a test sees OpenBao really asked.
 */
export class TokenReviewServer {
  readonly #server: Server;
  readonly #accounts = new Map<string, ServiceAccount>();
  readonly #key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  /** TokenReviews answered: [authenticated, …]. */
  readonly reviews: boolean[] = [];

  constructor(server: Server) {
    this.#server = server;
    server.on('request', (request, response) => {
      void readBody(request).then((body) => {
        if (request.method !== 'POST' || request.url !== '/apis/authentication.k8s.io/v1/tokenreviews') {
          response.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","status":"Failure","code":404}');
          return;
        }
        const review = JSON.parse(body) as { spec?: { token?: string; audiences?: string[] } };
        const account = this.#accounts.get(review.spec?.token ?? '');
        this.reviews.push(account !== undefined);
        const status =
          account === undefined
            ? { authenticated: false, error: 'invalid bearer token' }
            : {
                authenticated: true,
                user: { username: `system:serviceaccount:${account.namespace}:${account.name}`, uid: account.uid, groups: ['system:serviceaccounts'] },
                audiences: review.spec?.audiences ?? [],
              };
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', spec: review.spec, status }));
      });
    });
  }

  /** `https://127.0.0.1:<port>`: the `kubernetes_host` for OpenBao. */
  get url(): string {
    const address = this.#server.address();
    return `https://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  /** Makes a service account and its signed JWT, which this server then vouches for. */
  addServiceAccount(namespace: string, name: string): ServiceAccount {
    const uid = randomUUID();
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'secretvisor-test' }));
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'kubernetes/serviceaccount',
      sub: `system:serviceaccount:${namespace}:${name}`,
      iat: now,
      'kubernetes.io/serviceaccount/namespace': namespace,
      'kubernetes.io/serviceaccount/service-account.name': name,
      'kubernetes.io/serviceaccount/service-account.uid': uid,
      'kubernetes.io/serviceaccount/secret.name': `${name}-token`,
    };
    const unsigned = `${header}.${base64url(JSON.stringify(claims))}`;
    const jwt = trackSecret(`${unsigned}.${base64url(sign('sha256', Buffer.from(unsigned), this.#key))}`);
    const account = { namespace, name, uid, jwt };
    this.#accounts.set(jwt, account);
    return account;
  }

  /** Stops the server. */
  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
  });
}

/** Starts a {@link TokenReviewServer} on a random loopback port, serving HTTPS with the certificate of `pki` (OpenBao's `kubernetes_ca_cert` is its CA). */
export async function startTokenReviewServer(pki: TestPki): Promise<TokenReviewServer> {
  const server = createServer({ key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) });
  const reviewer = new TokenReviewServer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return reviewer;
}
