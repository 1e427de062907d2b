// Squid `logformat` specifications, compiled: `%ts.%03tu %>a %{X-MSISDN}>ha` → the literal
// text between codes and each code with its encoding and argument, so a line can be read
// back field by field. The grammar is Squid's (squid-cache.org/Doc/config/logformat):
// `%` [encoding] [-] [[0]width[.max]] [{arg}] code [{arg}]. profile.ts validates with it,
// squid.ts reads lines with it; a `%{strftime format}tl` / `tg` is compiled here too.
import { compileStrftime, type StrftimeReader } from './strftime.js';

/** Squid's native access.log format ("logformat squid"), the default when none is given. */
export const SQUID_NATIVE_LOGFORMAT = '%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt';

export interface SquidCode {
  /**
   * `"`, `[`, `#`, `/`, `'` or '' (the code's own default): the code's own modifier, else the
   * one its place gives it (Squid quotes a code between literal `"` as if it had `%"`, and
   * one between literal `[` and `]` as if it had `%[`).
   */
  readonly encoding: string;
  /** A minimum width (`%6tr`, `%-10>a`): the value may be padded with spaces. Not for `0` (zero padding). */
  readonly padded: boolean;
  /** The maximum width (`%.20ru`), or null: Squid cuts a longer text value, and gives `%tu` that many digits. */
  readonly maxWidth: number | null;
  /** The value may hold spaces: it ends only where the next literal begins (see squid.ts). */
  readonly spaces: boolean;
  /** The code without modifiers: `ts`, `>a`, `>ha`. */
  readonly code: string;
  /** The `{argument}`, e.g. a header name; '' when none. */
  readonly arg: string;
  /** As a profile names it: `%` + `{arg}` + code, e.g. `%{X-MSISDN}>ha`. */
  readonly name: string;
  /** For `%{format}tl` and `%{format}tg`: the compiled strftime format. */
  readonly time?: StrftimeReader;
}

export interface SquidLogformat {
  /** literals.length === codes.length + 1: literals[i] comes before codes[i]. */
  readonly literals: readonly string[];
  readonly codes: readonly SquidCode[];
}

/**
 * Codes from Squid's documentation and its token table (src/format/Token.cc, 3.x to 6),
 * longest first so that `>ha` wins over `>h`. A code not listed is still read (as letters
 * after an optional `<`/`>`), and its field is reported as unread.
 */
const KNOWN_CODES = [
  'err_detail', 'err_code', 'note', 'credentials', '>handshake', '>nfmark', '<nfmark', '>qos', '<qos', '>eui', '>la', '>lp',
  '<la', '<lp', '>ha', '>Hs', '<Hs', '>rm', '<rm', '>ru', '<ru', '>rp', '<rp', '>rv', '<rv', '>rs', '<rs', '>rd', '<rd',
  '>rP', '<rP', '>st', '<st', '>sh', '<sh', '<sH', '<sS', '<bs', '<pt', '<tt', '>a', '>A', '>p', '<a', '<A', '<p', '>h',
  '<h', '>v', 'la', 'lp', 'oa', 'ts', 'tu', 'tl', 'tg', 'tS', 'tr', 'dt', 'un', 'ul', 'ui', 'us', 'ue', 'Hs', 'Ss', 'Sh',
  'mt', 'rm', 'ru', 'rp', 'rv', 'rG', 'st', 'sn', 'et', 'ea',
].sort((a, b) => b.length - a.length);

const ENCODINGS = '"[#/\'';

/** Squid's default `%tg` format (GMT, no zone written); `%tl` without a format is the Common Log Format's time. */
const GMT_DEFAULT = '%d/%b/%Y:%H:%M:%S';

/** `{argument}` at `i` (on the brace): [argument, index after], or a reason. */
function readArgument(spec: string, i: number, at: number): [string, number] | string {
  const close = spec.indexOf('}', i);
  if (close < 0) return `unterminated {argument} at column ${at + 1}`;
  return [spec.slice(i + 1, close), close + 1];
}

/**
 * Compiles a logformat specification; a reason when it cannot be read back. The grammar is
 * Squid's: `%` [encoding] [-] [[0]width] [.max] [{arg}] code [{arg}], and `%%` is a literal
 * percent sign (so `%%T` is the text `%T`). As in Squid, a literal `"` in the format opens or
 * closes a quoted stretch and a literal `[` … `]` a bracketed one, which give the codes inside
 * the `"` or `[` encoding.
 */
export function parseSquidLogformat(spec: string): SquidLogformat | string {
  const literals: string[] = [];
  const codes: Array<Omit<SquidCode, 'spaces'>> = [];
  let literal = '';
  let quoting = '';
  let i = 0;
  while (i < spec.length) {
    const c = spec[i]!;
    if (c !== '%') {
      literal += c;
      if (c === '"' && quoting !== '[') quoting = quoting === '"' ? '' : '"';
      else if (c === '[' && quoting === '') quoting = '[';
      else if (c === ']' && quoting === '[') quoting = '';
      i++;
      continue;
    }
    if (spec[i + 1] === '%') {
      literal += '%';
      i += 2;
      continue;
    }
    const at = i;
    i++;
    let encoding = quoting;
    if (i < spec.length && ENCODINGS.includes(spec[i]!)) encoding = spec[i++]!;
    if (spec[i] === '-') i++;
    const width = /^(\d*)(?:\.(\d*))?/.exec(spec.slice(i))!;
    i += width[0].length;
    const padded = width[1] !== '' && Number(width[1]) > 0;
    const maxWidth = width[2] === undefined || width[2] === '' ? null : Number(width[2]);
    let arg = '';
    if (spec[i] === '{') {
      const a = readArgument(spec, i, at);
      if (typeof a === 'string') return a;
      [arg, i] = a;
    }
    const ns = /^[a-z]+::/.exec(spec.slice(i));
    if (ns !== null) i += ns[0].length;
    const rest = spec.slice(i);
    let code = KNOWN_CODES.find((k) => rest.startsWith(k));
    if (code === undefined) {
      const m = /^[<>]?[A-Za-z_]+/.exec(rest);
      if (m === null) return `no format code after the % at column ${at + 1}`;
      code = m[0];
    }
    i += code.length;
    if (arg === '' && spec[i] === '{') {
      const a = readArgument(spec, i, i);
      if (typeof a === 'string') return a;
      [arg, i] = a;
    }
    if (codes.length > 0 && literal === '' && codes[codes.length - 1]!.encoding !== '"') {
      return `%${code} at column ${at + 1} follows the previous code with nothing between them, so their values cannot be told apart`;
    }
    const name = `%${arg === '' ? '' : `{${arg}}`}${code}`;
    let time: StrftimeReader | undefined;
    if ((code === 'tl' || code === 'tg') && (arg !== '' || code === 'tg')) {
      const compiled = compileStrftime(arg === '' ? GMT_DEFAULT : arg, code === 'tg');
      if (typeof compiled === 'string') return `${name} at column ${at + 1}: ${compiled}`;
      time = compiled;
    }
    literals.push(literal);
    literal = '';
    codes.push({ encoding, padded, maxWidth, code, arg, name, ...(time === undefined ? {} : { time }) });
  }
  literals.push(literal);
  if (codes.length === 0) return 'no % format codes';
  return {
    literals,
    codes: codes.map((code, f) => {
      // Inside quotes or brackets Squid escapes the closing character, so the value may hold
      // spaces and still ends exactly where the closing literal begins; a value written as is
      // (%') between quotes is taken up to the next quote.
      const closer = literals[f + 1]![0];
      const spaces = code.code === 'tl' || code.code === 'tg' || ((code.encoding === '"' || code.encoding === "'") && closer === '"') ||
        (code.encoding === '[' && closer === ']');
      return { ...code, spaces };
    }),
  };
}
