// Timestamps of both log formats, read by hand: the parsers run once per log line, so these
// walk character codes instead of using regexes or Date.parse (which accepts zone-less and
// locale forms that the contract refuses). Results are epoch milliseconds, UTC.

/** Largest |epoch ms| a JavaScript Date can hold. */
const MAX_EPOCH_MS = 8.64e15;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Value of `width` ASCII digits at `at`, or -1 when any is not a digit or the text is short. */
function digits(text: string, at: number, width: number): number {
  if (at + width > text.length) return -1;
  let value = 0;
  for (let i = at; i < at + width; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** Milliseconds of the fraction digits from `at` to `end` (truncated, not rounded). */
function fractionMs(text: string, at: number, end: number): number {
  let ms = 0;
  for (let i = 0; i < 3; i++) {
    const d = at + i < end ? text.charCodeAt(at + i) - 48 : 0;
    ms = ms * 10 + d;
  }
  return ms;
}

/** Index after a run of digits starting at `at`. */
function skipDigits(text: string, at: number): number {
  let i = at;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}

/** `YYYY-MM-DD` at `at` as [year, month, day], or null. Checks the day exists. */
function readDate(text: string, at: number): [number, number, number] | null {
  const year = digits(text, at, 4);
  if (year < 0 || text.charCodeAt(at + 4) !== 45 /* - */) return null;
  const month = digits(text, at + 5, 2);
  if (month < 1 || month > 12 || text.charCodeAt(at + 7) !== 45) return null;
  const day = digits(text, at + 8, 2);
  const monthDays = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > monthDays) return null;
  return [year, month, day];
}

interface TimeOfDay {
  hour: number;
  minute: number;
  second: number;
  ms: number;
  /** Index just after the time. */
  end: number;
}

/**
 * `hh:mm[:ss[.fff…]]` at `at`. A second of 60 (a leap second, as on 2012-06-30) is
 * accepted and lands on the next minute's :00, which is what Date.UTC does with it.
 * `allowEmptyFraction` is for W3C, whose grammar allows `12:00:00.` (`"." *digit`).
 */
function readTime(text: string, at: number, allowEmptyFraction: boolean): TimeOfDay | null {
  const hour = digits(text, at, 2);
  if (hour < 0 || hour > 23 || text.charCodeAt(at + 2) !== 58 /* : */) return null;
  const minute = digits(text, at + 3, 2);
  if (minute < 0 || minute > 59) return null;
  let i = at + 5;
  let second = 0;
  let ms = 0;
  if (text.charCodeAt(i) === 58) {
    second = digits(text, i + 1, 2);
    if (second < 0 || second > 60) return null;
    i += 3;
    const c = text.charCodeAt(i);
    if (c === 46 /* . */ || c === 44 /* , ISO allows a decimal comma */) {
      const end = skipDigits(text, i + 1);
      if (end === i + 1 && !allowEmptyFraction) return null;
      ms = fractionMs(text, i + 1, end);
      i = end;
    }
  }
  return { hour, minute, second, ms, end: i };
}

/** Date.UTC, except that years 0–99 stay years 0–99 instead of becoming 1900–1999. */
function utc(year: number, month: number, day: number, t: TimeOfDay): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, t.hour, t.minute, t.second, t.ms);
  // Computed 400 years later and moved back by one whole Gregorian cycle (146,097 days), so
  // that 29 February of year 0 or 4 exists (1900, which Date.UTC would use, is no leap year).
  return Date.UTC(year + 400, month - 1, day, t.hour, t.minute, t.second, t.ms) - GREGORIAN_CYCLE_MS;
}

const GREGORIAN_CYCLE_MS = 146_097 * 86_400_000;

function inRange(ms: number): number | null {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : null;
}

/**
 * An ISO-8601 / RFC 3339 date-time in extended format that names its zone:
 * `2012-01-10T09:31:02.123Z`, `2012-01-10T09:31:02+00:00`, `…+0100`, `…-05`, with `T`,
 * `t` or a space between date and time. Null for anything else, including a date-time
 * without a zone (its instant is unknowable) and basic format (`20120110T093102Z`), which
 * no gateway we know writes.
 */
export function parseIsoDateTime(text: string): number | null {
  const date = readDate(text, 0);
  if (date === null) return null;
  const sep = text.charCodeAt(10);
  if (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32 /* space */) return null;
  const time = readTime(text, 11, false);
  if (time === null) return null;
  let i = time.end;
  let offsetMinutes = 0;
  const z = text.charCodeAt(i);
  if (z === 90 /* Z */ || z === 122 /* z */) {
    i++;
  } else if (z === 43 /* + */ || z === 45 /* - */) {
    const oh = digits(text, i + 1, 2);
    if (oh < 0 || oh > 23) return null;
    i += 3;
    let om = 0;
    if (i < text.length) {
      if (text.charCodeAt(i) === 58) i++;
      om = digits(text, i, 2);
      if (om < 0 || om > 59) return null;
      i += 2;
    }
    offsetMinutes = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return null;
  }
  if (i !== text.length) return null;
  const [year, month, day] = date;
  return inRange(utc(year, month, day, time) - offsetMinutes * 60_000);
}

/** Epoch milliseconds given as a JSON number: an integer a Date can hold. */
export function parseEpochMs(value: number): number | null {
  return Number.isInteger(value) ? inRange(value) : null;
}

/**
 * Epoch milliseconds given as a string of ASCII digits (some shippers quote every value).
 * Digits only: an ISO date is never all digits with a zone, so nothing is ambiguous.
 */
export function parseEpochMsText(text: string): number | null {
  if (text.length === 0 || text.length > 16 || skipDigits(text, 0) !== text.length) return null;
  return inRange(Number(text));
}

/** W3C `date` (`YYYY-MM-DD`, UTC) and `time` (`hh:mm[:ss[.f…]]`, UTC) fields, or null. */
export function parseW3cDateTime(date: string, time: string): number | null {
  if (date.length !== 10) return null;
  const d = readDate(date, 0);
  if (d === null) return null;
  const t = readTime(time, 0, true);
  if (t === null || t.end !== time.length) return null;
  return inRange(utc(d[0], d[1], d[2], t));
}

/** True when `date` alone is a valid W3C date, for choosing between two reject reasons. */
export function isW3cDate(date: string): boolean {
  return date.length === 10 && readDate(date, 0) !== null;
}

/**
 * A calendar date alone, `YYYY-MM-DD`, as UTC midnight; null when it is not one or the day
 * does not exist. Years 0–99 stay themselves (the CLI's `--from 0000-01-01`).
 */
export function parseIsoDate(text: string): number | null {
  if (text.length !== 10) return null;
  const d = readDate(text, 0);
  if (d === null) return null;
  return inRange(utc(d[0], d[1], d[2], { hour: 0, minute: 0, second: 0, ms: 0, end: 10 }));
}
