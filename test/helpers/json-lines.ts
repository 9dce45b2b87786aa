/**
 * The complete lines of `text` (one JSON value each), parsed. A file or pipe
 * read while its writer appends may end in a line not finished yet: that one
 * is left for the next look instead of failing to parse.
 */
export function parseJsonLines<T>(text: string, keep: (line: string) => boolean = () => true): T[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.filter((line) => line !== '' && keep(line)).map((line) => JSON.parse(line) as T);
}
