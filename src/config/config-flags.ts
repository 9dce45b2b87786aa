import type { RawConfig } from './schema.js';

type OnChangeKey = keyof NonNullable<RawConfig['onChange']>;

// The one declaration of the `run` flags that set a config key: the CLI
// parses them from it, and a value that makes the config invalid is named by
// its flag as well as its key.
const ON_CHANGE_FLAGS = {
  'on-change-env': 'env',
  'on-change-files': 'files',
  signal: 'signal',
  'stop-signal': 'stopSignal',
  'stop-timeout': 'stopTimeout',
  debounce: 'debounce',
  splay: 'splay',
} as const satisfies Readonly<Record<string, OnChangeKey>>;
const TOP_LEVEL_FLAGS = { 'on-exit': 'onExit' } as const satisfies Readonly<Record<string, keyof RawConfig>>;

/** A flag of `run` that sets a config key (`--on-exit` sets `onExit`). */
export type ConfigFlagName = keyof typeof ON_CHANGE_FLAGS | keyof typeof TOP_LEVEL_FLAGS;

/** Every flag that sets a config key, by name. */
export const CONFIG_FLAG_NAMES: readonly ConfigFlagName[] = [
  ...(Object.keys(ON_CHANGE_FLAGS) as (keyof typeof ON_CHANGE_FLAGS)[]),
  ...(Object.keys(TOP_LEVEL_FLAGS) as (keyof typeof TOP_LEVEL_FLAGS)[]),
];

/**
 * The config keys given on the command line: a partial config, its values as
 * typed (they are validated with the merged config, like the file's).
 */
export interface ConfigFlags {
  readonly onChange?: { readonly [K in (typeof ON_CHANGE_FLAGS)[keyof typeof ON_CHANGE_FLAGS]]?: string };
  readonly onExit?: string;
}

/** The partial config of the flags given; flags not given leave their key out. */
export function toConfigFlags(values: Readonly<Partial<Record<ConfigFlagName, string>>>): ConfigFlags {
  const onChange = Object.fromEntries(
    Object.entries(ON_CHANGE_FLAGS).flatMap(([flag, key]) => {
      const value = values[flag as keyof typeof ON_CHANGE_FLAGS];
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const onExit = values['on-exit'];
  return { ...(Object.keys(onChange).length === 0 ? {} : { onChange }), ...(onExit === undefined ? {} : { onExit }) };
}

/** The flag (`--on-exit`) that set the key at `path` of the config, if a flag did. */
export function flagAt(path: readonly PropertyKey[], flags: ConfigFlags): string | undefined {
  const [section, key, ...deeper] = path;
  if (deeper.length > 0) return undefined;
  if (section === 'onChange' && key !== undefined) {
    const entry = Object.entries(ON_CHANGE_FLAGS).find(([, onChangeKey]) => onChangeKey === key);
    return entry !== undefined && flags.onChange?.[entry[1]] !== undefined ? `--${entry[0]}` : undefined;
  }
  const top = Object.entries(TOP_LEVEL_FLAGS).find(([, topKey]) => topKey === section);
  return key === undefined && top !== undefined && flags[top[1]] !== undefined ? `--${top[0]}` : undefined;
}
