const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;

/** The pattern a size in the config matches: a whole number and B, KiB, MiB or GiB. */
export const SIZE_PATTERN = /^(\d+)(B|KiB|MiB|GiB)$/;

/** Converts a schema-checked size such as `512KiB` or `16MiB` to bytes. */
export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text);
  if (match === null) throw new RangeError(`not a size: ${text}`);
  return Number(match[1]) * UNIT_BYTES[match[2] as keyof typeof UNIT_BYTES];
}

/** Prints bytes the way a config would say them (`1MiB`, `1500B`). */
export function formatSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) {
    if (bytes % UNIT_BYTES[unit] === 0 && bytes > 0) return `${bytes / UNIT_BYTES[unit]}${unit}`;
  }
  return `${bytes}B`;
}
