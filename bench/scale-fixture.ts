import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomValue, writeSecret } from './fixtures.js';

/** The shape of a generated estate. */
export interface ScaleShape {
  readonly pools: number;
  readonly filesPerPool: number;
  readonly keysPerFile: number;
}

/** The scale: 10,000 secrets in 1,000 files across 50 pools. */
export const FULL_SCALE: ScaleShape = { pools: 50, filesPerPool: 20, keysPerFile: 10 };
/** The comparison for "does not grow with the unchanged files": 10 files. */
export const SMALL_SCALE: ScaleShape = { pools: 1, filesPerPool: 10, keysPerFile: 10 };

/** A generated project and the one file its rotations change. */
export interface ScaleProject {
  readonly dir: string;
  readonly files: number;
  readonly secrets: number;
  /** The key the rotating child prints: the first key of the first file. */
  readonly watchedKey: string;
  /** `run` options selecting the identity that receives everything. */
  readonly identity: readonly string[];
  /** Replaces the first file by rename with a new value for `watchedKey`; returns the value and the time of the rename. */
  rotate(): { readonly value: string; readonly at: number };
}

/**
 * Writes `pools × filesPerPool` dotenv files of `keysPerFile` keys each
 * (`pools/p00/f00.env`: P00_F00_K0 …), one dotenv source per file. Every
 * file is in the global scope, so the measured process (service `worker`,
 * pool `p00`) receives every secret; each pool's files are also declared as
 * its pool layer under `scopes.pools.worker`, so config validation and scope
 * resolution handle the full shape.
 */
export function makeScaleProject(dir: string, shape: ScaleShape, extraConfig = ''): ScaleProject {
  const names: string[] = [];
  const poolLines: string[] = [];
  const sourceLines: string[] = [];
  const pad = (n: number): string => String(n).padStart(2, '0');
  mkdirSync(join(dir, 'staging'), { recursive: true, mode: 0o700 });
  for (let pool = 0; pool < shape.pools; pool++) {
    const poolDir = join(dir, 'pools', `p${pad(pool)}`);
    mkdirSync(poolDir, { recursive: true, mode: 0o700 });
    const poolSources: string[] = [];
    for (let file = 0; file < shape.filesPerPool; file++) {
      const name = `p${pad(pool)}-f${pad(file)}`;
      writeSecret(join(poolDir, `f${pad(file)}.env`), fileText(pool, file, shape.keysPerFile));
      sourceLines.push(`  ${name}: { type: dotenv, path: ./pools/p${pad(pool)}/f${pad(file)}.env }`);
      names.push(name);
      poolSources.push(name);
    }
    poolLines.push(`      p${pad(pool)}: [${poolSources.join(', ')}]`);
  }
  const config = ['version: 1', 'sources:', ...sourceLines, 'scopes:', `  global: [${names.join(', ')}]`, '  pools:', '    worker:', ...poolLines, extraConfig].join('\n');
  writeSecret(join(dir, 'secretvisor.yaml'), config);
  return {
    dir,
    files: shape.pools * shape.filesPerPool,
    secrets: shape.pools * shape.filesPerPool * shape.keysPerFile,
    watchedKey: 'P00_F00_K0',
    identity: ['--service', 'worker', '--pool', 'p00'],
    rotate() {
      const staged = join(dir, 'staging', 'f00.env');
      const text = fileText(0, 0, shape.keysPerFile);
      writeSecret(staged, text);
      const at = performance.now();
      renameSync(staged, join(dir, 'pools', 'p00', 'f00.env'));
      return { value: /^P00_F00_K0=(.*)$/m.exec(text)?.[1] ?? '', at };
    },
  };
}

function fileText(pool: number, file: number, keys: number): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return Array.from({ length: keys }, (_, key) => `P${pad(pool)}_F${pad(file)}_K${key}=${randomValue()}\n`).join('');
}
