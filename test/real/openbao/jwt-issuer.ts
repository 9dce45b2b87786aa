import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { trackSecret } from '../../helpers/secrets.js';

/** The claims a test JWT carries; times are epoch seconds. */
export interface JwtClaims {
  readonly sub: string;
  readonly aud: string;
  readonly exp: number;
  readonly iat?: number;
  readonly nbf?: number;
}

/**
 * A workload-identity issuer of the test's own: an ES256 key pair made here,
 * whose public key OpenBao's jwt method is given as `jwt_validation_pubkeys`,
 * and JWTs signed with its private key, as a Kubernetes API server signs
 * projected service-account tokens or a CI system its identity tokens.
 */
export class JwtIssuer {
  readonly issuer: string;
  readonly publicKeyPem: string;
  readonly #privateKey: KeyObject;

  constructor(issuer: string) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.issuer = issuer;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.#privateKey = privateKey;
  }

  /** A signed JWT with `claims`, the issuer's `iss` and a unique `jti`; tracked by the leak check (it is a credential). */
  sign(claims: JwtClaims): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'ES256', typ: 'JWT' };
    const payload = { iss: this.issuer, iat: claims.iat ?? now, nbf: claims.nbf ?? now - 5, jti: randomUUID(), ...claims };
    const signingInput = `${encode(header)}.${encode(payload)}`;
    // JWS wants the raw r||s form of an ECDSA signature, not DER.
    const signature = sign('sha256', Buffer.from(signingInput), { key: this.#privateKey, dsaEncoding: 'ieee-p1363' });
    return trackSecret(`${signingInput}.${signature.toString('base64url')}`);
  }
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
