import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';

const source = (fields: string): string => `version: 1\nsources:\n  params: { type: aws-ssm, ${fields} }\n`;

describe('aws-ssm source config', () => {
  it.each([
    ['both path and names', 'path: /noxus/prod, names: [/noxus/prod/a]', ['sources.params: an aws-ssm source needs exactly one of path and names', 'set path:']],
    ['neither path nor names', 'region: eu-central-1', ['sources.params: an aws-ssm source needs exactly one of path and names']],
    ['recursive with names', 'names: [/noxus/a], recursive: true', ['sources.params: recursive applies to path', 'remove recursive:']],
    ['a path without its leading slash', 'path: noxus/prod', ['sources.params.path', 'expected a hierarchy path starting with /']],
    ['a name with characters Parameter Store refuses', 'names: ["/noxus/a b"]', ['sources.params.names', 'expected a parameter name']],
    ['an empty names list', 'names: []', ['sources.params.names']],
    ['externalId without roleArn', 'path: /noxus, externalId: abc', ['externalId is set but roleArn is not']],
    ['a misspelt key', 'path: /noxus, recursve: true', ['unknown key "recursve" at sources.params', 'did you mean "recursive"?']],
  ])('exits 78 for %s, saying where and how to fix', async (_name, fields, messages) => {
    const result = await runCli(['check'], { cwd: makeProject({ 'secretvisor.yaml': source(fields) }) });
    expect(result.code, result.stderr).toBe(78);
    for (const message of messages) expect(logText(result.stderr)).toContain(message);
  });

  it('is in the JSON Schema that `secretvisor schema` prints, with its keys', async () => {
    const result = await runCli(['schema']);
    expect(result.code, result.stderr).toBe(0);
    const schema = JSON.parse(result.stdout) as {
      properties: { sources: { additionalProperties: { oneOf?: { properties: Record<string, { const?: string }> }[]; anyOf?: { properties: Record<string, { const?: string }> }[] } } };
    };
    const options = schema.properties.sources.additionalProperties.oneOf ?? schema.properties.sources.additionalProperties.anyOf ?? [];
    const ssm = options.find((option) => option.properties.type?.const === 'aws-ssm');
    expect(Object.keys(ssm?.properties ?? {})).toEqual(expect.arrayContaining(['path', 'recursive', 'names', 'region', 'endpoint', 'roleArn', 'externalId', 'refresh', 'prefix', 'upcase']));
  });
});
