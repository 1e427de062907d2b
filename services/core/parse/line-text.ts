// Small helpers on one line of text, shared by both parsers and the format detection.
import { safeJson } from '../visible-text.js';

/** The line without trailing CR/LF characters: what a reader hands over, and what is hashed. */
export function stripLineEnd(line: string): string {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 10 && c !== 13) break;
    end--;
  }
  return end === line.length ? line : line.slice(0, end);
}

/** True when the line holds only spaces and tabs (or nothing). */
export function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

/**
 * A line described for an error message without echoing it: its first characters with every
 * digit shown as `#` and control characters escaped (a first line may hold a subscriber's
 * number, and stderr ends up in tickets), and its length.
 */
export function describeLine(line: string): string {
  const head = line.slice(0, 24).replace(/\p{Nd}/gu, '#');
  return `${line.length} characters, starting ${safeJson(head)}${line.length > 24 ? '…' : ''}`;
}
