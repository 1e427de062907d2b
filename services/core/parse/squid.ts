// Squid access logs → GatewayRequest: lines written by a `logformat` (the profile's, or
// Squid's native format), read back code by code. `%{Name}>h` is a header as the client sent
// it and `%{Name}>ha` the same header after adaptation (request_header_add), i.e. as
// forwarded upstream: the forwarded value replaces the client's. Pure; never throws on a line.
import type { ParseResult } from '../types.js';
import { buildRequest, Decode, planColumns, type ColumnPlan, type ColumnSpec, type InternalTarget } from './columns.js';
import type { LineParser } from './line-parser.js';
import { isBlank, stripLineEnd } from './line-text.js';
import type { LogProfile } from './profile.js';
import { parseSquidLogformat, SQUID_NATIVE_LOGFORMAT, type SquidCode, type SquidLogformat } from './squid-logformat.js';

const SKIP: ParseResult = { ok: 'skip' };

/** What Squid's documentation says each code holds, where leakscope reads it. */
const STANDARD: Readonly<Record<string, string | InternalTarget>> = {
  ts: 'epoch_seconds',
  tu: 'subsecond_ms',
  tl: 'clf_time',
  tg: 'clf_time',
  '>a': 'client_ip',
  rm: 'method',
  '>rm': 'method',
  ru: 'url',
  '>ru': 'url',
  '>rs': 'scheme',
  '>rd': 'host',
  '>rP': 'port',
  rp: 'path',
  '>rp': 'path',
  Hs: 'status',
  '>Hs': 'status',
  '<st': 'bytes',
  st: 'bytes',
};

function specOf(code: SquidCode): ColumnSpec {
  const spec: ColumnSpec = { name: code.name, key: code.name.toLowerCase() };
  const standard = STANDARD[code.code];
  if (standard !== undefined) spec.standard = standard;
  const time = code.time;
  if (time !== undefined) {
    spec.time = {
      description: JSON.stringify(code.arg),
      read(value) {
        time.pattern.lastIndex = 0;
        const m = time.pattern.exec(value);
        return m === null || m[0].length !== value.length ? null : time.instant(m);
      },
    };
  }
  if (code.arg !== '' && (code.code === '>h' || code.code === '>ha')) {
    spec.standard = `${code.code === '>ha' ? 'header' : 'client_header'}:${code.arg.toLowerCase()}`;
  }
  // Squid %-encodes unsafe characters of header and user-name values unless told `'`.
  if (code.encoding === '' || code.encoding === '#' || code.encoding === '[') {
    if (code.code === '>h' || code.code === '>ha' || code.code === 'un' || code.code === 'ul' || code.code === 'ue') spec.decode = Decode.Percent;
  }
  return spec;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** Index after the literal at `at`, or -1: a space in the literal matches a run of spaces and tabs (Squid pads widths). */
function matchLiteral(text: string, at: number, literal: string): number {
  let i = at;
  for (let k = 0; k < literal.length; k++) {
    const c = literal.charCodeAt(k);
    if (isSpace(c)) {
      if (i >= text.length || !isSpace(text.charCodeAt(i))) return -1;
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    } else {
      if (text.charCodeAt(i) !== c) return -1;
      i++;
    }
  }
  return i;
}

/** A `"`-quoted value from `at` (on the quote): backslash escapes undone. Returns [value, index after] or null. */
function readQuoted(text: string, at: number): [string, number] | null {
  let out = '';
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return [out, i + 1];
    if (c === '\\' && i + 1 < text.length) {
      const e = text[++i]!;
      out += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e;
    } else {
      out += c;
    }
  }
  return null;
}

function describeLiteral(literal: string): string {
  return literal.trim() === '' ? 'a space' : JSON.stringify(literal);
}

/** Splits one line by the compiled logformat into `out`; the number of values, or a reason. */
function splitByLogformat(text: string, format: SquidLogformat, out: (string | null)[]): number | string {
  const { literals, codes } = format;
  let pos = 0;
  while (pos < text.length && isSpace(text.charCodeAt(pos)) && literals[0]!.length === 0) pos++;
  const start = matchLiteral(text, pos, literals[0]!);
  if (start < 0) return `the line does not start with ${describeLiteral(literals[0]!)}`;
  pos = start;
  for (let f = 0; f < codes.length; f++) {
    const code = codes[f]!;
    const next = literals[f + 1]!;
    let value: string;
    let end: number;
    if (code.time !== undefined) {
      // A strftime time may hold spaces and the separator itself: its own pattern finds its end.
      code.time.pattern.lastIndex = pos;
      const m = code.time.pattern.exec(text);
      if (m === null) return `${code.name}: no time written as ${JSON.stringify(code.arg)} at column ${pos + 1}`;
      value = m[0];
      end = pos + value.length;
    } else if ((code.encoding === '"' || code.encoding === '/') && text.charCodeAt(pos) === 34 /* " */) {
      const q = readQuoted(text, pos);
      if (q === null) return `unterminated quoted value of ${code.name} at column ${pos + 1}`;
      [value, end] = q;
    } else if (next.length === 0) {
      end = text.length;
      while (end > pos && isSpace(text.charCodeAt(end - 1))) end--;
      value = text.slice(pos, end);
      end = text.length;
    } else {
      const first = next.charCodeAt(0);
      end = pos;
      if (isSpace(first)) {
        while (end < text.length && !isSpace(text.charCodeAt(end))) end++;
      } else {
        // Squid's values hold no spaces (its default encodings escape them) except local and
        // GMT times (`%tl` is `10/Jan/2012:09:31:02 +0000`): a space before the separator is
        // a malformed line, not part of the value.
        const stop = next.charCodeAt(0);
        const spaces = code.code === 'tl' || code.code === 'tg';
        while (end < text.length) {
          const c = text.charCodeAt(end);
          if (c === stop || (!spaces && isSpace(c))) break;
          end++;
        }
        if (end >= text.length) return `${code.name}: no ${describeLiteral(next)} after its value (the line ends at column ${text.length})`;
      }
      value = text.slice(pos, end);
    }
    if (pos >= text.length && next.length === 0 && value.length === 0) return `the line ends before ${code.name}`;
    out[f] = value === '-' || value.length === 0 ? null : value;
    if (next.length > 0) {
      const after = matchLiteral(text, end, next);
      if (after < 0) {
        if (end >= text.length) return `the line ends after ${code.name}: ${codes.length - f - 1} more field(s) expected`;
        return `${code.name}: expected ${describeLiteral(next)} at column ${end + 1}`;
      }
      pos = after;
    } else {
      pos = end;
    }
  }
  while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
  if (pos < text.length) return `unexpected text after the last field at column ${pos + 1}`;
  return codes.length;
}

/** A parser for Squid logs written with the profile's logformat (default: Squid's native one). */
export function createSquidParser(profile: LogProfile): LineParser & { readonly plan: ColumnPlan | string } {
  const format = parseSquidLogformat(profile.squidLogformat ?? SQUID_NATIVE_LOGFORMAT);
  const plan = typeof format === 'string' ? `squid logformat: ${format}` : planColumns(format.codes.map(specOf), profile);
  const values: (string | null)[] = typeof format === 'string' ? [] : new Array<string | null>(format.codes.length).fill(null);
  let reported = false;
  return {
    plan,
    parseLine(line: string): ParseResult {
      const text = stripLineEnd(line);
      if (isBlank(text)) return SKIP;
      if (typeof plan === 'string' || typeof format === 'string') return { ok: false, reason: plan as string };
      const n = splitByLogformat(text, format, values);
      if (typeof n === 'string') return { ok: false, reason: n };
      return buildRequest(plan, values, n, text);
    },
    unreadFields(): readonly string[] {
      if (reported || typeof plan === 'string') return [];
      reported = true;
      return plan.unread;
    },
  };
}
