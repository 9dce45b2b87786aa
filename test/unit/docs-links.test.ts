import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README links its depth out to docs/; a moved section must not leave a link
// to a file or a heading that is no longer there.
const ROOT = resolve(import.meta.dirname, '../..');

function markdownFiles(): string[] {
  const inFolder = (folder: string, pick: (name: string) => boolean): string[] =>
    readdirSync(join(ROOT, folder), { withFileTypes: true })
      .filter((entry) => pick(entry.name))
      .map((entry) => join(folder, entry.name));
  const examples = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, 'examples', entry.name, 'README.md')))
    .map((entry) => join('examples', entry.name, 'README.md'));
  return ['README.md', ...inFolder('docs', (name) => name.endsWith('.md')), ...examples];
}

function withoutCodeBlocks(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');
}

function anchorsIn(file: string): Set<string> {
  const text = withoutCodeBlocks(readFileSync(join(ROOT, file), 'utf8'));
  return new Set([...text.matchAll(/^#+ (.*)$/gm)].map((match) => anchorOf(match[1] as string)));
}

interface Link {
  readonly from: string;
  readonly target: string;
}

function linksIn(file: string): Link[] {
  const text = withoutCodeBlocks(readFileSync(join(ROOT, file), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] as string)
    .filter((target) => !/^(https?|mailto):/.test(target))
    .map((target) => ({ from: file, target }));
}

function brokenReason({ from, target }: Link): string | undefined {
  const [path, anchor] = target.split('#') as [string, string | undefined];
  const file = path === '' ? from : normalize(join(dirname(from), path));
  if (!existsSync(join(ROOT, file))) return `no file ${file}`;
  if (anchor === undefined || !file.endsWith('.md')) return undefined;
  return anchorsIn(file).has(anchor) ? undefined : `no heading #${anchor} in ${file}`;
}

describe('links between the README, docs/ and the examples', () => {
  const links = markdownFiles().flatMap(linksIn);

  it('finds the links it checks', () => {
    expect(links.filter((link) => link.from === 'README.md' && link.target.startsWith('docs/')).length).toBeGreaterThan(10);
  });

  it('has no link to a missing file or heading', () => {
    const broken = links.flatMap((link) => {
      const reason = brokenReason(link);
      return reason === undefined ? [] : [`${link.from}: (${link.target}) ${reason}`];
    });
    expect(broken).toEqual([]);
  });

  it.each([
    ['Live rotation', 'live-rotation'],
    ['One identity per unit: `DynamicUser=yes`', 'one-identity-per-unit-dynamicuseryes'],
    ['What the units rely on, and why', 'what-the-units-rely-on-and-why'],
    ['Start-up and memory, the second round (#15)', 'start-up-and-memory-the-second-round-15'],
  ])('names the heading %j #%s, as GitHub does', (heading, anchor) => {
    expect(anchorOf(heading)).toBe(anchor);
  });
});
