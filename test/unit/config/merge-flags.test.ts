import { describe, expect, it } from 'vitest';
import { CONFIG_FLAG_NAMES, flagAt, toConfigFlags, type ConfigFlagName } from '../../../src/config/config-flags.js';
import { mergeFlags } from '../../../src/config/merge-flags.js';

const FILE = {
  version: 1,
  sources: { app: { type: 'dotenv', path: 'app.env' } },
  onChange: { env: 'none', files: 'none', signal: 'SIGUSR1', stopSignal: 'SIGINT', stopTimeout: '3s', debounce: '1s', splay: '2s', strategy: 'restart' },
  onExit: 'restart',
} as const;

// Each flag, a value unlike the file's, and the key it sets.
const FLAGS: readonly (readonly [ConfigFlagName, string, readonly string[]])[] = [
  ['on-change-env', 'signal', ['onChange', 'env']],
  ['on-change-files', 'restart', ['onChange', 'files']],
  ['signal', 'SIGUSR2', ['onChange', 'signal']],
  ['stop-signal', 'SIGQUIT', ['onChange', 'stopSignal']],
  ['stop-timeout', '30s', ['onChange', 'stopTimeout']],
  ['debounce', '50ms', ['onChange', 'debounce']],
  ['splay', '5s', ['onChange', 'splay']],
  ['on-exit', 'exit', ['onExit']],
];

function valueAt(data: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], data);
}

/** A copy of `data` with `value` at `path`, the sections on the way made when missing. */
function withValueAt(data: object, path: readonly string[], value: string): Record<string, unknown> {
  const copy = structuredClone(data) as Record<string, unknown>;
  const parents = path.slice(0, -1).reduce((node, key) => (node[key] ??= {}) as Record<string, unknown>, copy);
  parents[path.at(-1) as string] = value;
  return copy;
}

describe('the flags that set config keys', () => {
  it('are the ones the table covers, each once', () => {
    expect([...CONFIG_FLAG_NAMES].sort()).toEqual(FLAGS.map(([flag]) => flag).sort());
  });
});

describe('toConfigFlags', () => {
  it('leaves every key out when no flag is given', () => {
    expect(toConfigFlags({})).toEqual({});
  });

  it.each(FLAGS)('--%s %s sets %j', (flag, value, path) => {
    const flags = toConfigFlags({ [flag]: value });
    expect(valueAt(flags, path)).toBe(value);
    expect(flagAt(path, flags)).toBe(`--${flag}`);
  });

  it('names no flag for a key no flag set, or a key below one', () => {
    const flags = toConfigFlags({ debounce: '1s' });
    expect(flagAt(['onChange', 'splay'], flags)).toBeUndefined();
    expect(flagAt(['onChange'], flags)).toBeUndefined();
    expect(flagAt(['onChange', 'debounce', 0], flags)).toBeUndefined();
    expect(flagAt(['onExit'], flags)).toBeUndefined();
  });
});

describe('mergeFlags', () => {
  it('returns the file as it is when no flag is given', () => {
    expect(mergeFlags(FILE, {})).toEqual(FILE);
  });

  it.each(FLAGS)('--%s %s wins over the file at %j and leaves every other key as the file has it', (flag, value, path) => {
    expect(mergeFlags(FILE, toConfigFlags({ [flag]: value }))).toEqual(withValueAt(FILE, path, value));
  });

  it.each(FLAGS)('--%s %s sets %j in a file without that section', (flag, value, path) => {
    const file = { version: 1, sources: {} };
    expect(mergeFlags(file, toConfigFlags({ [flag]: value }))).toEqual(withValueAt(file, path, value));
  });

  it.each([
    ['a string', 'restart'],
    ['a list', ['restart']],
    ['null', null],
  ])('keeps an onChange that is %s as the file wrote it, for validation to report', (_what, onChange) => {
    expect(mergeFlags({ version: 1, sources: {}, onChange }, toConfigFlags({ debounce: '1s' })).onChange).toEqual(onChange);
  });

  it('does not change the file data it merges into', () => {
    const file = structuredClone(FILE);
    mergeFlags(file, toConfigFlags({ 'on-change-env': 'signal', 'on-exit': 'exit' }));
    expect(file).toEqual(FILE);
  });
});
