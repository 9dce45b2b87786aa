import { readFileSync, writeFileSync } from 'node:fs';
import type { BenchRow } from './bench-row.js';

/** A titled group of rows in the report. */
export interface BenchSection {
  readonly title: string;
  readonly rows: readonly BenchRow[];
}

/** The report as Markdown: one table, a heading row per section. */
export function formatTable(sections: readonly BenchSection[]): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['| Figure | Value | Baseline (same run) | Ratio | Target | Met |', '|---|---|---|---|---|---|'];
  for (const section of sections) {
    lines.push(`| **${cell(section.title)}** | | | | | |`);
    for (const row of section.rows) {
      const met = row.met === undefined ? '—' : row.met ? 'yes' : '**no**';
      lines.push(`| ${[row.figure, row.value, row.baseline, row.ratio, row.target, met].map(cell).join(' | ')} |`);
    }
  }
  return lines.join('\n') + '\n';
}

const OPEN = '<!-- section: bench -->';
const CLOSE = '<!-- /section: bench -->';

/**
 * Replaces what lies between the bench markers of the README with `body`,
 * leaving every other byte of the file as it is. Reads the file right before
 * writing, since others edit other sections.
 */
export function updateReadmeSection(path: string, body: string): void {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(OPEN);
  const end = text.indexOf(CLOSE);
  if (start === -1 || end === -1 || end < start || text.indexOf(OPEN, start + 1) !== -1) {
    throw new Error(`${path}: expected exactly one ${OPEN} … ${CLOSE} pair`);
  }
  writeFileSync(path, `${text.slice(0, start + OPEN.length)}\n${body.trim()}\n${text.slice(end)}`);
}
