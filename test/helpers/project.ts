import { chmodSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJsonLines } from './json-lines.js';
import { pollUntil } from './poll-until.js';
import { tempDir, writeSecretFile } from './tmp.js';

/** A file to create in a test project: its content, or content and mode. */
export type ProjectFile = string | { readonly content: string; readonly mode: number };

/** Node fixture scripts, by name. */
export const FIXTURES = {
  recordEnv: fileURLToPath(new URL('../fixtures/record-env.mjs', import.meta.url)),
  printEnv: fileURLToPath(new URL('../fixtures/print-env.mjs', import.meta.url)),
  ignoreSigterm: fileURLToPath(new URL('../fixtures/ignore-sigterm-with-grandchild.mjs', import.meta.url)),
  countSigint: fileURLToPath(new URL('../fixtures/count-sigint.mjs', import.meta.url)),
};

/**
 * A private temp folder with the given files (secret files 0600 unless a
 * mode is given; folders 0700). `secretvisor.yaml` is just another file.
 */
export function makeProject(files: Record<string, ProjectFile>): string {
  const dir = tempDir();
  for (const [path, file] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
    chmodSync(dirname(full), 0o700);
    if (typeof file === 'string') writeSecretFile(full, file);
    else writeSecretFile(full, file.content, file.mode);
  }
  return dir;
}

/** One line of what record-env.mjs wrote. */
export interface ChildRecord {
  readonly event: 'start' | 'signal' | 'stop';
  readonly pid: number;
  readonly values: { readonly [key: string]: string | null };
  readonly signal?: string;
}

/** The lines record-env.mjs wrote so far. */
export function readRecords(file: string): ChildRecord[] {
  if (!existsSync(file)) return [];
  return parseJsonLines<ChildRecord>(readFileSync(file, 'utf8'));
}

/** Waits until the records satisfy `predicate`; fails with what was recorded. */
export function waitForRecords(file: string, predicate: (records: ChildRecord[]) => boolean, what: string, timeoutMs = 15_000): Promise<ChildRecord[]> {
  let records: ChildRecord[] = [];
  const probe = (): ChildRecord[] | undefined => {
    records = readRecords(file);
    return predicate(records) ? records : undefined;
  };
  return pollUntil(probe, what, { timeoutMs, detail: () => `records:\n${JSON.stringify(records, null, 1)}` });
}
