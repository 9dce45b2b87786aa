import { describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';

// The config side of the keyless Vault auth methods (aws, jwt): what
// `secretvisor schema` says about them, and the errors bad values give.

interface JsonSchema {
  readonly properties?: Record<string, JsonSchema>;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly oneOf?: readonly JsonSchema[];
  readonly required?: readonly string[];
  readonly const?: unknown;
}

/** The schema of each auth method under a vault source's `auth:`, by method name. */
function authMethods(schema: JsonSchema): Map<unknown, JsonSchema> {
  const sources = (schema.properties?.sources?.additionalProperties as JsonSchema).oneOf ?? [];
  const vault = sources.find((source) => source.properties?.type?.const === 'vault');
  return new Map((vault?.properties?.auth?.oneOf ?? []).map((method) => [method.properties?.method?.const, method]));
}

async function check(auth: string): Promise<{ code: number | null; text: string }> {
  const dir = makeProject({ 'secretvisor.yaml': `version: 1\nsources:\n  v:\n    type: vault\n    address: http://127.0.0.1:1\n    path: secret/data/x\n    auth: ${auth}\n` });
  const result = await runCli(['check'], { cwd: dir, env: baseEnv({ SECRETVISOR_LOG_FORMAT: 'json' }) });
  return { code: result.code, text: logText(result.stderr) };
}

describe('vault auth methods aws and jwt: config', () => {
  it('secretvisor schema lists both methods with their keys and what each requires', async () => {
    const result = await runCli(['schema']);
    expect(result.code).toBe(0);
    const methods = authMethods(JSON.parse(result.stdout) as JsonSchema);
    expect([...methods.keys()]).toEqual(['token', 'approle', 'kubernetes', 'aws', 'jwt']);
    expect(Object.keys(methods.get('aws')?.properties ?? {})).toEqual(['method', 'role', 'mount', 'region', 'stsEndpoint', 'headerValue']);
    expect(methods.get('aws')?.required).toEqual(['method', 'role']);
    expect(Object.keys(methods.get('jwt')?.properties ?? {})).toEqual(['method', 'role', 'jwtFile', 'mount']);
    expect(methods.get('jwt')?.required).toEqual(['method', 'role', 'jwtFile']);
  });

  it.each([
    ['method: jvt', '{ method: jvt, role: r, jwtFile: t }', 'sources.v.auth.method: unknown method "jvt"; expected one of "token", "approle", "kubernetes", "aws", "jwt" (did you mean "jwt"?)'],
    ['a jwt method without jwtFile', '{ method: jwt, role: worker }', 'sources.v.auth.jwtFile is required'],
    ['an aws method without role', '{ method: aws }', 'sources.v.auth.role is required'],
    ['a region that is not one', '{ method: aws, role: r, region: Frankfurt }', 'sources.v.auth.region: expected an AWS region such as us-east-1 or eu-central-1'],
    ['an stsEndpoint that is not a URL', '{ method: aws, role: r, stsEndpoint: sts-internal }', 'sources.v.auth.stsEndpoint'],
    ['a key of another method', '{ method: aws, role: r, jwtFile: t }', 'unknown key "jwtFile" at sources.v.auth'],
  ])('%s: exit 78 with the path and what is valid', async (_name, auth, message) => {
    const { code, text } = await check(auth);
    expect(code).toBe(78);
    expect(text).toContain(message);
  });

  it('a jwt file that does not exist: exit 66 at once, naming auth.jwtFile and its path', async () => {
    const { code, text } = await check('{ method: jwt, role: worker, jwtFile: /nonexistent/secretvisor-test/token }');
    expect(code).toBe(66);
    expect(text).toContain('auth.jwtFile');
    expect(text).toContain('/nonexistent/secretvisor-test/token');
  });
});
