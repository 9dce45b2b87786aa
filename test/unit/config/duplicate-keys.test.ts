import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import { ConfigError, describeError } from '../../../src/errors.js';
import { cpuMsOf } from '../../helpers/cpu-time.js';

async function loadError(text: string): Promise<unknown> {
  try {
    await parseConfigText(text, '/etc/secretvisor.yaml', {});
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('a key written twice in the config', () => {
  it.each([
    ['at the top level', 'version: 1\nsources: {}\nversion: 1\n', 'at line 3, column 1: DUPLICATE_KEY "version"'],
    ['deep inside, in flow style', 'version: 1\nsources:\n  app: { type: dotenv, path: a.env, path: b.env }\n', 'at line 3, column 37: DUPLICATE_KEY "path"'],
    ['in a map of a list item', 'version: 1\nsources: {}\nfiles:\n  - path: a\n    template: x\n    path: b\n', 'at line 6, column 5: DUPLICATE_KEY "path"'],
  ])('%s: refused with its line and column', async (_name, text, message) => {
    const error = await loadError(text);
    expect(error).toBeInstanceOf(ConfigError);
    expect(describeError(error)).toContain(`/etc/secretvisor.yaml: not valid YAML ${message}`);
  });

  it('tells a number from a string of the same digits, as YAML does', async () => {
    const error = await loadError('version: 1\nsources: {}\nenv:\n  1: a\n  "1": b\n');
    expect(describeError(error)).not.toContain('DUPLICATE_KEY');
  });

  it("finds one among 20,000 keys in one pass (yaml's pairwise check took seconds)", async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  K${i}: x`);
    let error: unknown;
    const cpuMs = await cpuMsOf(async () => (error = await loadError(`version: 1\nsources: {}\nenv:\n${keys.join('\n')}\n  K0: y\n`)));
    expect(describeError(error)).toContain('DUPLICATE_KEY "K0"');
    expect(cpuMs).toBeLessThan(3_000);
  });
});
