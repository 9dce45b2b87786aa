/** Strips one trailing newline (`\n` or `\r\n`), as files written by `echo` or editors end with one. */
export function stripOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}
