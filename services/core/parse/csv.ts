// CSV/TSV exports with a header row (proprietary gateways: Openwave, Flash Networks, Allot,
// Nokia) → GatewayRequest. The first non-blank line names the columns; the profile maps
// them onto leakscope's fields, and a column already named as one (`ts`, `msisdn`, `url`,
// `header:X-MSISDN`, …) needs no mapping. Values follow RFC 4180 (quotes, `""` for a quote);
// a record spanning lines is not supported and is rejected. Pure; never throws on a line.
import type { ParseResult } from '../types.js';
import { buildRequest, planColumns, type ColumnPlan, type ColumnSpec } from './columns.js';
import type { LineParser } from './line-parser.js';
import { isBlank, stripLineEnd } from './line-text.js';
import { TARGET_FIELDS, type LogProfile } from './profile.js';

const SKIP: ParseResult = { ok: 'skip' };

/** Splits one record; values are null when empty. The count, or a reason. */
function splitRecord(text: string, delimiter: number, out: (string | null)[] | null): (string | null)[] | string {
  const values: (string | null)[] = out ?? [];
  let count = 0;
  let i = 0;
  const n = text.length;
  for (;;) {
    let value: string;
    if (text.charCodeAt(i) === 34 /* " */) {
      let acc = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return `unterminated quoted value in column ${count + 1} (a value spanning lines is not supported)`;
        if (text.charCodeAt(q + 1) === 34) {
          acc += text.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        acc += text.slice(from, q);
        i = q + 1;
        break;
      }
      if (i < n && text.charCodeAt(i) !== delimiter) return `unexpected character after the closing quote of column ${count + 1} at column ${i + 1}`;
      value = acc;
    } else {
      const d = text.indexOf(String.fromCharCode(delimiter), i);
      const end = d < 0 ? n : d;
      value = text.slice(i, end);
      if (value.includes('"')) return `a quote inside the unquoted value of column ${count + 1}`;
      i = end;
    }
    values[count++] = value.length === 0 ? null : value;
    if (i >= n) break;
    i++; // the delimiter
    if (i === n) {
      values[count++] = null;
      break;
    }
  }
  values.length = count;
  return values;
}

function specOf(name: string): ColumnSpec {
  const key = name.trim().toLowerCase();
  const spec: ColumnSpec = { name, key };
  if ((TARGET_FIELDS as readonly string[]).includes(key) && key !== 'ignore') spec.standard = key;
  const colon = key.indexOf(':');
  if (colon > 0 && (key.startsWith('header:') || key.startsWith('client_header:')) && colon < key.length - 1) spec.standard = key;
  return spec;
}

/** A parser for one CSV/TSV stream: its first non-blank line is the header row. */
export function createCsvParser(profile: LogProfile): LineParser {
  const delimiter = profile.delimiter.charCodeAt(0);
  let header: string | null = null;
  let plan: ColumnPlan | string | null = null;
  let unreadPending: readonly string[] = [];
  let values: (string | null)[] = [];
  return {
    parseLine(line: string): ParseResult {
      const text = stripLineEnd(line);
      if (isBlank(text)) return SKIP;
      if (header === null) {
        header = text;
        const names = splitRecord(text, delimiter, null);
        if (typeof names === 'string') {
          plan = `header row: ${names}`;
          return { ok: false, reason: plan };
        }
        if (names.some((n) => n === null)) {
          plan = `header row: column ${names.indexOf(null) + 1} has no name`;
          return { ok: false, reason: plan };
        }
        plan = planColumns((names as string[]).map(specOf), profile);
        if (typeof plan === 'string') {
          plan = `header row: ${plan}`;
          return { ok: false, reason: plan };
        }
        unreadPending = plan.unread;
        values = new Array<string | null>(names.length).fill(null);
        return SKIP;
      }
      if (typeof plan === 'string' || plan === null) return { ok: false, reason: `data line after a refused ${plan ?? 'header row'}` };
      if (text === header) return SKIP; // exports concatenated: each repeats its header row
      const split = splitRecord(text, delimiter, values);
      if (typeof split === 'string') return { ok: false, reason: split };
      if (split.length !== plan.slots.length) {
        const n = split.length;
        values = new Array<string | null>(plan.slots.length).fill(null);
        return { ok: false, reason: `${n} values for the ${plan.slots.length} columns of the header row` };
      }
      return buildRequest(plan, split, split.length, text);
    },
    unreadFields(): readonly string[] {
      const list = unreadPending;
      unreadPending = [];
      return list;
    },
  };
}
