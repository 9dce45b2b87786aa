import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { auditLooseFile, type SourceAudit } from './audit-files.js';

// Templates committed next to the real file; they hold no secrets by convention.
const TEMPLATE_SUFFIXES = ['.example', '.sample', '.template', '.dist', '.defaults'];

/** True for names that usually hold secrets in KEY=value form: `.env`, `.env.local`, `prod.env`, `.envrc`. */
export function isEnvFileName(name: string): boolean {
  if (TEMPLATE_SUFFIXES.some((suffix) => name.endsWith(suffix))) return false;
  return name === '.env' || name === '.envrc' || name.startsWith('.env.') || (name.endsWith('.env') && name.length > '.env'.length);
}

/**
 * Looks in `folders` (not below them) for `.env`-style files the config does
 * not name — `known` holds the real paths already audited — and checks each
 * by the rules for secret files: such leftovers are where secrets leak.
 */
export async function auditStrayEnvFiles(folders: readonly string[], known: ReadonlySet<string>): Promise<SourceAudit> {
  const audit: SourceAudit = { items: [], findings: [] };
  const seen = new Set(known);
  for (const folder of new Set(folders)) {
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names.filter(isEnvFileName).sort()) {
      const path = join(folder, name);
      const real = await realpath(path).catch(() => undefined);
      const stats = await stat(path).catch(() => undefined);
      if (real === undefined || stats === undefined || !stats.isFile() || seen.has(real)) continue;
      seen.add(real);
      const found = auditLooseFile(path, stats);
      audit.items.push(...found.items);
      audit.findings.push(...found.findings);
    }
  }
  return audit;
}
