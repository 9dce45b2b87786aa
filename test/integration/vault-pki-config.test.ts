import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';

const source = (fields: string): string => `version: 1\nsources:\n  tls: { type: vault, address: "http://127.0.0.1:1", ${fields} }\n`;
const pki = (fields: string): string => `pki: { role: web, commonName: api.example.test, ${fields} }`;

describe('vault pki source config', () => {
  it.each([
    ['both path and pki', `path: secret/data/app, ${pki('')}`, ['sources.tls: a vault source needs exactly one of path and pki', 'set path:']],
    ['neither path nor pki', 'namespace: team', ['sources.tls: a vault source needs exactly one of path and pki']],
    ['pki without a role', 'pki: { commonName: api.example.test }', ['sources.tls.pki.role is required']],
    ['pki without a commonName', 'pki: { role: web }', ['sources.tls.pki.commonName is required']],
    ['an IP SAN that is not an address', pki('ipSans: [not-an-ip]'), ['sources.tls.pki.ipSans[0]: expected an IP address such as 10.0.0.5 or fd00::5']],
    ['a ttl that is not a duration', pki('ttl: 3 days'), ['sources.tls.pki.ttl', 'expected a duration such as 250ms, 10s, 5m or 1h']],
    ['a ttl of a fraction of a second', pki('ttl: 1500ms'), ['sources.tls.pki.ttl: 1500ms is not a whole number of seconds']],
    ['renewBefore not shorter than ttl', pki('ttl: 1m, renewBefore: 1m'), ['sources.tls.pki.renewBefore: 1m is not shorter than ttl 1m', 'a third']],
    ['revokeOnExit with pki', `${pki('')}, revokeOnExit: true`, ['revokeOnExit applies to leases, and a pki certificate has none']],
    ['a misspelt pki key', pki('altName: [www.example.test]'), ['unknown key "altName" at sources.tls.pki', 'did you mean "altNames"?']],
  ])('exits 78 for %s, saying where and how to fix', async (_name, fields, messages) => {
    const result = await runCli(['check'], { cwd: makeProject({ 'secretvisor.yaml': source(fields) }) });
    expect(result.code, result.stderr).toBe(78);
    for (const message of messages) expect(logText(result.stderr)).toContain(message);
  });

  it('is in the JSON Schema that `secretvisor schema` prints, with its keys', async () => {
    const result = await runCli(['schema']);
    expect(result.code, result.stderr).toBe(0);
    type Node = { properties?: Record<string, Node & { const?: string }>; oneOf?: Node[]; anyOf?: Node[]; description?: string };
    const schema = JSON.parse(result.stdout) as { properties: { sources: { additionalProperties: Node } } };
    const union = schema.properties.sources.additionalProperties;
    const vault = (union.oneOf ?? union.anyOf ?? []).find((option) => option.properties?.type?.const === 'vault');
    const pkiNode = vault?.properties?.pki;
    expect(Object.keys(pkiNode?.properties ?? {})).toEqual(['mount', 'role', 'commonName', 'altNames', 'ipSans', 'ttl', 'renewBefore']);
    expect(pkiNode?.description).toContain('TLS_CERT, TLS_KEY, TLS_CA and TLS_FULLCHAIN');
  });
});
