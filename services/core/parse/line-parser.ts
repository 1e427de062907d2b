// Picking a parser for a log stream: by the `--format` given, or by the first non-empty
// line (`{` starts NDJSON, `#` a W3C directive, which every W3C log opens with). Squid and
// CSV logs cannot be told from a line: they are read only when asked for.
import type { LogFormat, ParseResult } from '../types.js';
import { createCsvParser } from './csv.js';
import { parseNdjsonLine } from './ndjson.js';
import { builtInProfile, type LogProfile } from './profile.js';
import { createSquidParser } from './squid.js';
import { createW3cParser } from './w3c.js';

export interface LineParser {
  /** One line (with or without its CR/LF) → a request, a reject with a reason, or a skip. Never throws. */
  parseLine(line: string): ParseResult;
  /** The declared fields nobody reads, when the format declares fields; each list is given once. */
  unreadFields?(): readonly string[];
}

/** The format a log starts with, from its first non-empty line; null when neither. A leading BOM or whitespace is ignored. */
export function detectFormat(firstNonEmptyLine: string): LogFormat | null {
  let i = 0;
  while (i < firstNonEmptyLine.length) {
    const c = firstNonEmptyLine.charCodeAt(i);
    if (c !== 0xfeff && c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    i++;
  }
  const first = firstNonEmptyLine.charCodeAt(i);
  if (first === 123 /* { */) return 'ndjson';
  if (first === 35 /* # */) return 'w3c';
  return null;
}

/** A fresh parser for one stream of the given format (W3C parsers hold the `#Fields:` in force). */
export function createLineParser(format: LogFormat, profile: LogProfile | null = null): LineParser {
  switch (format) {
    case 'ndjson':
      return { parseLine: parseNdjsonLine };
    case 'w3c':
      return createW3cParser(profile);
    case 'squid':
      return createSquidParser(profile ?? builtInProfile('squid'));
    case 'csv':
      return createCsvParser(profile ?? builtInProfile('csv'));
  }
}
