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
  // `%{Name:member}>h` is one member of a list header, not the header: read only where the profile maps it.
  if (code.arg !== '' && !code.arg.includes(':') && (code.code === '>h' || code.code === '>ha')) {
    spec.standard = `${code.code === '>ha' ? 'header' : 'client_header'}:${code.arg.toLowerCase()}`;
  }
  // Squid %-encodes unsafe characters of header and user-name values unless told `'`.
  if (code.encoding === '' || code.encoding === '#' || code.encoding === '[') {
    if (code.code === '>h' || code.code === '>ha' || code.code === 'un' || code.code === 'ul' || code.code === 'ue') spec.decode = Decode.Percent;
  }
  return spec;
}

/** Codes whose `.N` Squid ignores (numbers) or reads as a number of digits (`%tu`): never cut. */
const NEVER_CUT = new Set(['ts', 'tu', 'tr', 'Hs', '>Hs', '<Hs', 'st', '<st', '>st', '>rP', '>p', '<p', 'lp', '>lp', 'sn']);

/**
 * Codes whose values are free text (headers, user names, tags): they may hold spaces when not
 * escaped. Not URLs: a request line cannot hold a space, so Squid's own `"%rm %ru HTTP/%rv"` is clear.
 */
const FREE_TEXT = /^(?:[<>]h|>ha|u[nlei]|mt|et|ea|note)$/;

/**
 * Why the logformat cannot be read under the profile, or null. For a column leakscope reads:
 * a maximum width (`%.20ru`), which Squid cuts, so that a cut URL, header or number would be
 * read as another one; and free text written as is (`%'`, `%/`, or `%"` outside literal
 * quotes: Squid escapes no space then) followed by a space, so that a value with a space
 * would shift every later column. Checked when the profile or `--squid-logformat` is given.
 */
export function squidLogformatProblem(format: SquidLogformat, profile: Pick<LogProfile, 'fields' | 'notForwarded'>): string | null {
  for (const [f, code] of format.codes.entries()) {
    const cut = code.maxWidth !== null && !NEVER_CUT.has(code.code);
    const next = format.literals[f + 1]!;
    const unbounded = FREE_TEXT.test(code.code) && !code.spaces && next.length > 0 && isSpace(next.charCodeAt(0)) &&
      (code.encoding === '\'' || code.encoding === '/' || code.encoding === '"');
    if (!cut && !unbounded) continue;
    const spec = specOf(code);
    const target = profile.fields[spec.key] ?? spec.standard;
    if (!((target !== undefined && target !== 'ignore') || profile.notForwarded.some((r) => r.field === spec.key))) continue;
    if (cut) {
      return `${code.name} has a maximum width (.${code.maxWidth}): Squid cuts longer values, and leakscope reads this field, so a cut value would be read as another one; remove .${code.maxWidth} from the logformat, or map "${spec.key}" to ignore in the profile's fields`;
    }
    return `${code.name} is written with the ${code.encoding} encoding, which leaves spaces in the value, and is followed by a space, so a value with a space would shift every later field; ` +
      `put it last, between literal quotes ("%{…}>h"), or without the ${code.encoding}, or map "${spec.key}" to ignore in the profile's fields`;
  }
  return null;
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

/**
 * `%.Ntu` writes the sub-second part in units of 10^-N s (Squid divides the microseconds by
 * 10^(6-N); N above 6 means microseconds): as milliseconds, which `%tu` writes without `.N`.
 */
function subsecondAsMs(value: string, digits: number): string {
  if (!/^\d{1,9}$/.test(value)) return value;
  const n = Math.min(digits, 6);
  return String(n >= 3 ? Math.floor(Number(value) / 10 ** (n - 3)) : Number(value) * 10 ** (3 - n));
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
    // A right-aligned value of a minimum width (`%6tr`) is preceded by its padding.
    if (code.padded) while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
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
    } else if (code.spaces && code.encoding === '"') {
      // Between literal quotes: the value ends at the first quote Squid did not escape.
      const q = readQuoted(text, pos - 1);
      if (q === null) return `${code.name}: no closing quote after its value (the line ends at column ${text.length})`;
      [value, end] = [q[0], q[1] - 1];
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
        while (end < text.length) {
          const c = text.charCodeAt(end);
          if (c === stop || (!code.spaces && isSpace(c))) break;
          end++;
        }
        if (end >= text.length) return `${code.name}: no ${describeLiteral(next)} after its value (the line ends at column ${text.length})`;
      }
      value = text.slice(pos, end);
      // A left-aligned value of a minimum width (`%-10>a|`) is followed by its padding.
      if (code.padded && isSpace(text.charCodeAt(end)) && !isSpace(next.charCodeAt(0))) {
        let after = end;
        while (after < text.length && isSpace(text.charCodeAt(after))) after++;
        if (text.charCodeAt(after) === next.charCodeAt(0)) end = after;
      }
    }
    if (code.code === 'tu' && code.maxWidth !== null) value = subsecondAsMs(value, code.maxWidth);
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
  const problem = typeof format === 'string' ? format : squidLogformatProblem(format, profile);
  const plan = typeof format === 'string' || problem !== null ? `squid logformat: ${problem}` : planColumns(format.codes.map(specOf), profile);
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
