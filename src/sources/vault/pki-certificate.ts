import { X509Certificate, createPrivateKey } from 'node:crypto';
import { SecretDataError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import { getObject } from './json-fields.js';

/** The keys a PKI source yields (rename them with `keys:`, or add `prefix:`). */
export const PKI_KEYS = {
  certificate: 'TLS_CERT',
  privateKey: 'TLS_KEY',
  caChain: 'TLS_CA',
  fullChain: 'TLS_FULLCHAIN',
} as const;

/** A certificate Vault issued: its PEM parts as entries, and what its schedule needs (nothing secret). */
export interface IssuedCertificate {
  readonly entries: ReadonlyMap<string, SecretValue>;
  readonly serial: string;
  readonly notAfter: Date;
}

/**
 * Reads the answer of `POST {mount}/issue/{role}`: the certificate, its
 * private key and the CA chain (`ca_chain`, else `issuing_ca`). The dates
 * come from the certificate itself, and the key is checked to belong to it:
 * a mismatched pair would only fail later, in the child's TLS handshake.
 */
export function parseIssuedCertificate(response: unknown, path: string, what: string): IssuedCertificate {
  const data = getObject(response, 'data');
  const certificate = getString(data, 'certificate');
  const privateKey = getString(data, 'private_key');
  if (certificate === undefined || privateKey === undefined) {
    throw new SecretDataError(`${what}: Vault's answer for ${path} holds no certificate and private key`, {
      hint: 'pki: issues at {mount}/issue/{role}: check that mount names a PKI secrets engine',
    });
  }
  const chainList = Array.isArray(data?.ca_chain) ? data.ca_chain.filter((item): item is string => typeof item === 'string' && item !== '') : [];
  const chain = chainList.length > 0 ? chainList : [getString(data, 'issuing_ca')].filter((item): item is string => item !== undefined);
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(certificate);
  } catch {
    throw new SecretDataError(`${what}: the certificate Vault issued at ${path} is not a PEM certificate`);
  }
  if (!belongsTo(parsed, privateKey)) {
    throw new SecretDataError(`${what}: the private key Vault issued at ${path} does not belong to its certificate (serial ${parsed.serialNumber})`);
  }
  const pem = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);
  const caText = chain.map(pem).join('');
  return {
    entries: new Map([
      [PKI_KEYS.certificate, new SecretValue(pem(certificate))],
      [PKI_KEYS.privateKey, new SecretValue(pem(privateKey))],
      [PKI_KEYS.caChain, new SecretValue(caText)],
      [PKI_KEYS.fullChain, new SecretValue(pem(certificate) + caText)],
    ]),
    serial: formatSerial(parsed.serialNumber),
    notAfter: new Date(parsed.validTo),
  };
}

function belongsTo(certificate: X509Certificate, privateKey: string): boolean {
  try {
    return certificate.checkPrivateKey(createPrivateKey(privateKey));
  } catch {
    return false;
  }
}

function getString(object: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Vault's form of a serial number: lower-case hex pairs joined by colons. */
function formatSerial(hex: string): string {
  const even = hex.length % 2 === 0 ? hex : `0${hex}`;
  return even.toLowerCase().match(/../g)?.join(':') ?? even;
}
