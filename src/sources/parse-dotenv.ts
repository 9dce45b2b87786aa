import { parse } from 'dotenv';
import { SecretDataError } from '../errors.js';
import { PROTOTYPE_NAMES } from '../config/interpolate.js';

// `[^]*`, not `.*`: a value may hold U+2028 and U+2029, which `.` does not match.
const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)\s*[=:]\s?([^]*)$/;
const QUOTES = new Set(['"', "'", '`']);

/**
 * Parses dotenv text strictly: dotenv's own parser gives the values, and a
 * line scan first refuses what dotenv would silently skip — a line that is
 * not `KEY=value`, or a quoted value that never closes (a file still being
 * written). Errors give the line number and key, never the content.
 */
export function parseDotenv(text: string, where: string): Map<string, string> {
  validateLines(text, where);
  return new Map(Object.entries(parse(text)));
}

function validateLines(text: string, where: string): void {
  // Lines end as dotenv ends them: LF, CRLF or a lone CR.
  const lines = text.split(/\r\n?|\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = ASSIGNMENT.exec(line);
    if (match === null) {
      throw new SecretDataError(`${where}: line ${index + 1} is not KEY=value`, {
        hint: 'fix the line, or quote a value that spans several lines',
      });
    }
    if (PROTOTYPE_NAMES.has(match[1] as string)) {
      throw new SecretDataError(`${where}: line ${index + 1} sets ${match[1]}, which cannot be a key: a JavaScript object treats it as its prototype (dotenv drops it silently)`, {
        hint: 'rename the key',
      });
    }
    const value = (match[2] as string).trimStart();
    const quote = value[0];
    if (quote !== undefined && QUOTES.has(quote) && !closesOnLine(value.slice(1), quote)) {
      const end = lines.findIndex((later, at) => at > index && closesOnLine(later, quote));
      // With no later line to close it, dotenv takes a backslash before the quote as a plain character.
      if (end === -1 && value.slice(1).includes(quote)) continue;
      if (end === -1) {
        throw new SecretDataError(`${where}: the quoted value of ${match[1]} (line ${index + 1}) is never closed`, {
          hint: `add the closing ${quote}`,
        });
      }
      index = end;
    }
  }
}

function closesOnLine(rest: string, quote: string): boolean {
  for (let at = 0; at < rest.length; at++) {
    if (rest[at] === '\\') at++;
    else if (rest[at] === quote) return true;
  }
  return false;
}
