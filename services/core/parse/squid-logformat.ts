// Squid `logformat` specifications, compiled: `%ts.%03tu %>a %{X-MSISDN}>ha` → the literal
// text between codes and each code with its encoding and argument, so a line can be read
// back field by field. The grammar is Squid's (squid-cache.org/Doc/config/logformat):
// `%` [encoding] [-] [[0]width[.max]] [{arg}] code [{arg}]. profile.ts validates with it,
// squid.ts reads lines with it; a `%{strftime format}tl` / `tg` is compiled here too.
import { compileStrftime, type StrftimeReader } from './strftime.js';

/** Squid's native access.log format ("logformat squid"), the default when none is given. */
export const SQUID_NATIVE_LOGFORMAT = '%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt';

export interface SquidCode {
  /** `"`, `[`, `#`, `/`, `'` or '' (the code's own default). */
  readonly encoding: string;
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
 * Codes from Squid's documentation (3.x to 6), longest first so that `>ha` wins over `>h`.
 * A code not listed is still read (as letters after an optional `<`/`>`), and its field is
 * reported as unread.
 */
const KNOWN_CODES = [
  'err_detail', 'err_code', 'note', '>eui', '>la', '>lp', '<la', '<lp', '>ha', '>Hs', '<Hs', '>rm', '<rm', '>ru', '<ru',
  '>rp', '<rp', '>rv', '<rv', '>rs', '>rd', '>rP', '>st', '<st', '<sH', '<sS', '>a', '>A', '>p', '<a', '<A', '<p', '>h',
  '<h', 'la', 'lp', 'ts', 'tu', 'tl', 'tg', 'tr', 'dt', 'un', 'ul', 'ui', 'us', 'ue', 'Hs', 'Ss', 'Sh', 'mt', 'rm',
  'ru', 'rp', 'rv', 'st', 'sn', 'et', 'ea',
].sort((a, b) => b.length - a.length);

const ENCODINGS = '"[#/\'';

/** Compiles a logformat specification; a reason when it cannot be read back. */
export function parseSquidLogformat(spec: string): SquidLogformat | string {
  const literals: string[] = [];
  const codes: SquidCode[] = [];
  let literal = '';
  let i = 0;
  while (i < spec.length) {
    const c = spec[i]!;
    if (c !== '%') {
      literal += c;
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
    let encoding = '';
    if (i < spec.length && ENCODINGS.includes(spec[i]!)) encoding = spec[i++]!;
    if (spec[i] === '-') i++;
    while (i < spec.length && /[0-9.]/.test(spec[i]!)) i++;
    let arg = '';
    if (spec[i] === '{') {
      const close = spec.indexOf('}', i);
      if (close < 0) return `unterminated {argument} at column ${at + 1}`;
      arg = spec.slice(i + 1, close);
      i = close + 1;
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
      const close = spec.indexOf('}', i);
      if (close < 0) return `unterminated {argument} at column ${i + 1}`;
      arg = spec.slice(i + 1, close);
      i = close + 1;
    }
    if (codes.length > 0 && literal === '' && codes[codes.length - 1]!.encoding !== '"') {
      return `%${code} at column ${at + 1} follows the previous code with nothing between them, so their values cannot be told apart`;
    }
    const name = `%${arg === '' ? '' : `{${arg}}`}${code}`;
    let time: StrftimeReader | undefined;
    if ((code === 'tl' || code === 'tg') && arg !== '') {
      const compiled = compileStrftime(arg, code === 'tg');
      if (typeof compiled === 'string') return `${name} at column ${at + 1}: ${compiled}`;
      time = compiled;
    }
    literals.push(literal);
    literal = '';
    codes.push({ encoding, code, arg, name, ...(time === undefined ? {} : { time }) });
  }
  literals.push(literal);
  if (codes.length === 0) return 'no % format codes';
  return { literals, codes };
}
