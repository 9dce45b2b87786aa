import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES_DIR = '/etc/apt/sources.list.d';

/**
 * The Debian mirror apt itself uses for `suite` (the first `URIs:` of a deb822 `.sources` stanza whose
 * `Suites:` lists it), read at run time so that debootstrap goes where this machine's apt goes.
 */
export function aptMirror(suite: string, dir = SOURCES_DIR): string {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((name) => name.endsWith('.sources'))
      .sort();
  } catch (error) {
    throw new Error(`containers: cannot list ${dir} to find the Debian mirror (${String(error)}); this harness needs a Debian host with deb822 apt sources`);
  }
  for (const file of files) {
    for (const stanza of readFileSync(join(dir, file), 'utf8').split(/\n\s*\n/)) {
      const fields = parseStanza(stanza);
      const types = fields.get('types')?.split(/\s+/) ?? [];
      const suites = fields.get('suites')?.split(/\s+/) ?? [];
      const uri = fields.get('uris')?.split(/\s+/)[0];
      if (types.includes('deb') && suites.includes(suite) && uri !== undefined && uri !== '') return uri;
    }
  }
  throw new Error(`containers: no deb stanza for suite ${suite} with a URIs: line in ${dir}/*.sources; add one (the mirror debootstrap should use)`);
}

function parseStanza(stanza: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of stanza.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (match !== null) fields.set((match[1] as string).toLowerCase(), (match[2] as string).trim());
  }
  return fields;
}
