// CSV output of report, who-saw and export-affected: RFC 4180 (header row, CRLF line ends,
// a field quoted when it holds a comma, a quote, CR or LF, quotes doubled). Lists inside one
// field (hosts, identifiers, sites) are joined with `;`, which never occurs in a host or channel.
import type { ReportJson, WhoSawJson } from '../store/answers.js';
import { VERDICTS, type Verdict } from '../core/types.js';
import { cleanText } from './text.js';

const NEEDS_QUOTES = /[",\r\n]/;
// Spreadsheets run a cell starting with one of these as a formula (CSV injection). A host
// cannot start with them, but a hostile value from a log could; a leading apostrophe disarms it.
// Only a value that is wholly a number (an E.164 number, a count) may start with `+` or `-`:
// `-2+3+cmd|' /C calc'!A0` starts with a digit after its sign and is still a formula.
const FORMULA_START = /^[=@\t\r+-]/;
const PLAIN_NUMBER = /^[+-]?[0-9]+(?:\.[0-9]+)?$/;

/** One field, quoted when RFC 4180 requires it and disarmed when a spreadsheet would run it. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  // Control characters (ESC, NUL, CR, U+202E, …) are written as visible `\uXXXX` escapes: a
  // CSV is opened in terminals and spreadsheets, and must not carry a control sequence.
  let text = typeof value === 'string' ? cleanText(value) : String(value);
  if (typeof value === 'string' && FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(fields: ReadonlyArray<string | number | null>): string {
  return fields.map(csvField).join(',') + '\r\n';
}

export const LIST_SEPARATOR = ';';

/** The verdicts that make a violation, in the contract's order: one column each. */
export const VIOLATION_VERDICTS: readonly Verdict[] = VERDICTS.filter((v) => v !== 'authorized');

/** One row per site, in the report's order. */
export function renderReportCsv(report: ReportJson): string {
  let out = csvRow(['site', 'subscribers', 'violations', 'first_seen', 'last_seen', 'hosts', 'identifiers', ...VIOLATION_VERDICTS]);
  for (const s of report.sites) {
    out += csvRow([
      s.site, s.subscribers, s.violations, s.first_seen, s.last_seen,
      s.hosts.join(LIST_SEPARATOR), s.identifiers.join(LIST_SEPARATOR),
      ...VIOLATION_VERDICTS.map((v) => s.verdicts[v] ?? 0),
    ]);
  }
  return out;
}

/** One row per recipient (host, verdict, partner), in first-seen order. */
export function renderWhoSawCsv(answer: WhoSawJson): string {
  let out = csvRow(['subscriber', 'site', 'host', 'verdict', 'partner', 'requests', 'identifiers', 'first_seen', 'last_seen']);
  for (const r of answer.recipients) {
    out += csvRow([answer.subscriber, r.site, r.host, r.verdict, r.partner, r.requests, r.identifiers.join(LIST_SEPARATOR), r.first_seen, r.last_seen]);
  }
  return out;
}

/** One affected subscriber of export-affected, number already decrypted. */
export interface AffectedRow {
  /** E.164 with `+`. */
  msisdn: string;
  sites: readonly string[];
  firstExposure: string;
  lastExposure: string;
  violations: number;
}

export const AFFECTED_CSV_HEADER = ['msisdn', 'sites', 'first_exposure', 'last_exposure', 'violations'] as const;

export function renderAffectedCsv(rows: Iterable<AffectedRow>): string {
  let out = csvRow([...AFFECTED_CSV_HEADER]);
  for (const r of rows) out += csvRow([r.msisdn, r.sites.join(LIST_SEPARATOR), r.firstExposure, r.lastExposure, r.violations]);
  return out;
}
