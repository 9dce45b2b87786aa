/** The `code` of an error from a Node system call (`ENOENT`, `EACCES`…), or undefined when it has none. */
export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
