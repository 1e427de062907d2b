// Times written with a strftime format (Squid's `%{FORMAT}tl` and `%{FORMAT}tg`), read back:
// the format is compiled once into a sticky pattern that finds the time at a place in the line
// and gives its instant. The C locale's conversions are understood (Squid formats with
// strftime(3) in the C locale); see README "Squid" for the list. Pure; never throws on a value.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = '(?:mon|tue|wed|thu|fri|sat|sun)';
const DAY_NAMES = '(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)';

type Part = 'year' | 'year2' | 'month' | 'monthName' | 'day' | 'hour' | 'minute' | 'second' | 'zone' | 'epoch';

/** Each conversion: its pattern and the part it captures (none for names that only have to match). */
const CONVERSIONS: Readonly<Record<string, readonly [pattern: string, part: Part | null]>> = {
  Y: ['(\\d{4})', 'year'],
  y: ['(\\d{2})', 'year2'],
  m: ['(\\d{2})', 'month'],
  b: ['([A-Za-z]{3})', 'monthName'],
  h: ['([A-Za-z]{3})', 'monthName'],
  B: ['([A-Za-z]{3,9})', 'monthName'],
  d: ['(\\d{2})', 'day'],
  e: ['[ ]?(\\d{1,2})', 'day'],
  H: ['(\\d{2})', 'hour'],
  M: ['(\\d{2})', 'minute'],
  S: ['(\\d{2})', 'second'],
  z: ['([+-]\\d{4})', 'zone'],
  s: ['(\\d{1,12})', 'epoch'],
  a: [DAYS, null],
  A: [DAY_NAMES, null],
  Z: ['[A-Za-z]{1,6}', null],
  n: ['\\s+', null],
  t: ['\\s+', null],
};
/** Conversions that stand for others (strftime(3)). */
const SHORTHANDS: Readonly<Record<string, string>> = { T: '%H:%M:%S', F: '%Y-%m-%d', D: '%m/%d/%y', R: '%H:%M', r: '%I:%M:%S %p' };

/**
 * `format` with each shorthand conversion replaced by what it stands for, read left to right
 * as strftime(3) does: `%%` is a literal percent sign, so `%%T` stays the text `%T`.
 */
function expandShorthands(format: string): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%' || i + 1 >= format.length) {
      out += c;
      continue;
    }
    const conversion = format[++i]!;
    out += SHORTHANDS[conversion] ?? `%${conversion}`;
  }
  return out;
}

export interface StrftimeReader {
  /** Sticky: set lastIndex to where the time starts, then exec. */
  readonly pattern: RegExp;
  /** The instant (epoch ms) of a match, or null when it is not a real date and time. */
  instant(match: RegExpExecArray): number | null;
}

/**
 * Compiles `format`. `utc`: the time is GMT (`%tg`); otherwise it is the writer's local time,
 * which can be placed in UTC only with a `%z` (or as `%s`). A reason when it cannot be read back.
 */
export function compileStrftime(format: string, utc: boolean): StrftimeReader | string {
  const expanded = expandShorthands(format);
  if (/%[Ip]/.test(expanded.replace(/%%/g, ''))) return 'a 12-hour time (%I, %p) is not read; log %H';
  let source = '';
  const parts: Part[] = [];
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i]!;
    if (c !== '%') {
      source += c === ' ' ? '[ ]+' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      continue;
    }
    const conversion = expanded[++i];
    if (conversion === '%') {
      source += '%';
      continue;
    }
    const known = conversion === undefined ? undefined : CONVERSIONS[conversion];
    if (known === undefined) return `strftime conversion %${conversion ?? ''} is not read (known: %Y %y %m %b %B %d %e %H %M %S %z %s %a %A %Z %T %F %D %R)`;
    source += known[0];
    if (known[1] !== null) {
      if (parts.includes(known[1])) return `%${conversion} gives a part of the time twice`;
      parts.push(known[1]);
    }
  }
  const has = (p: Part) => parts.includes(p);
  if (!has('epoch')) {
    if (!(has('year') || has('year2')) || !(has('month') || has('monthName')) || !has('day') || !has('hour') || !has('minute')) {
      return 'the format does not give a whole date and time (year, month, day, hour and minute, or %s)';
    }
    if (!utc && !has('zone')) {
      return 'a local time without %z cannot be placed in UTC: add %z to the format, or log the time with %tg (GMT)';
    }
  }
  const index = new Map(parts.map((p, i) => [p, i + 1] as const));
  const pattern = new RegExp(source, 'iy');
  return {
    pattern,
    instant(match) {
      const get = (p: Part): string | undefined => (index.has(p) ? match[index.get(p)!] : undefined);
      const epoch = get('epoch');
      if (epoch !== undefined) return Number(epoch) * 1000;
      const year2 = get('year2');
      // POSIX strptime: 69–99 are 1969–1999, 00–68 are 2000–2068.
      const year = year2 !== undefined ? (Number(year2) >= 69 ? 1900 : 2000) + Number(year2) : Number(get('year'));
      const name = get('monthName')?.toLowerCase();
      const month = name === undefined ? Number(get('month')) - 1 : name.length === 3 ? MONTHS.indexOf(name) : MONTH_NAMES.indexOf(name);
      const [day, hour, minute, second] = [Number(get('day')), Number(get('hour')), Number(get('minute')), Number(get('second') ?? 0)];
      if (month < 0 || month > 11 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
      if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return null;
      const zone = get('zone');
      const offset = zone === undefined ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
      if (Math.abs(offset) > 18 * 60) return null;
      return Date.UTC(year, month, day, hour, minute, second) - offset * 60_000;
    },
  };
}
