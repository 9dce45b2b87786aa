/** Collapses every run of whitespace (newlines included) to one space and trims, cutting past `maxLength` with `…`. */
export function oneLine(text: string, maxLength: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength)}…` : flat;
}
