import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

// The layers, lowest first (docs/architecture.md explains each). A module may
// import its own layer or a lower one, never a higher one. A name is a folder
// of src/ or a top-level file without its `.ts`.
const LAYERS: readonly (readonly string[])[] = [
  ['lib', 'version', 'journal-stream'],
  ['secret-value', 'errors', 'clock', 'log'],
  ['hardening', 'config'],
  ['permissions', 'watch', 'scope'],
  ['sources', 'cache'],
  ['render', 'generate'],
  ['child'],
  ['listen', 'systemd'],
  ['audit'],
  ['health'],
  ['supervisor'],
  ['early-signals', 'commands'],
  ['cli'],
  ['main'],
];

// A feature's config section (its zod schema and its finalize step) lives with
// the feature but is part of the config layer: config/schema.ts and
// config/finalize.ts compose the sections.
const CONFIG_SECTIONS: readonly string[] = ['health/metrics-config.ts', 'health/metrics-schema.ts', 'listen/listen-config.ts', 'listen/listen-schema.ts'];

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The src-relative files `file` imports, from relative specifiers only. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return (
    [...text.matchAll(IMPORT)]
      .map((match) => match[1] ?? match[2] ?? '')
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => relative(SRC, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts'))
      // A module generated at build time (the config validator) is in the tree as its declarations.
      .map((target) => (existsSync(join(SRC, target)) ? target : target.replace(/\.ts$/, '.d.ts')))
  );
}

function layerName(file: string): string {
  if (CONFIG_SECTIONS.includes(file)) return 'config';
  const [first = '', ...rest] = file.split(sep);
  return rest.length > 0 ? first : first.replace(/\.ts$/, '');
}

function rankOf(file: string): number {
  const name = layerName(file);
  return LAYERS.findIndex((layer) => layer.includes(name));
}

const files = sourceFiles(SRC).map((file) => relative(SRC, file));
const graph = new Map(files.map((file) => [file, importsOf(join(SRC, file))]));

/** Every import cycle among the files, each as the path that closes it. */
function findCycles(): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: readonly string[]): void => {
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), file, target]);
      else if (!state.has(target)) visit(target, [...path, file]);
    }
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file, []);
  return cycles;
}

describe('imports in src/', () => {
  it('finds the imports of every module (the scan sees the code)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get('main.ts')).toContain('cli.ts');
    expect(graph.get('cli.ts')).toContain('commands/run.ts');
  });

  it('resolve to files that exist', () => {
    const missing = [...graph].flatMap(([file, targets]) => targets.filter((target) => !graph.has(target)).map((target) => `${file} -> ${target}`));
    expect(missing).toEqual([]);
  });

  it('come from modules that each belong to one layer', () => {
    expect(files.filter((file) => rankOf(file) === -1)).toEqual([]);
  });

  it('never run up a layer', () => {
    const uphill = [...graph].flatMap(([file, targets]) =>
      targets.filter((target) => rankOf(target) > rankOf(file)).map((target) => `${file} (${layerName(file)}) -> ${target} (${layerName(target)})`),
    );
    expect(uphill).toEqual([]);
  });

  it('form no cycle', () => {
    expect(findCycles()).toEqual([]);
  });
});
