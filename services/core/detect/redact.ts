// What the core keeps of a disclosing request's text holds no phone number in clear: the
// texts are searched the way the detector reads them (percent- and form-decoded, every
// Unicode decimal digit read as its ASCII digit), and every digit run that reads as a
// possible number of the region is masked, the subscriber's own in every spelling found.
// Pure; see the README's "Privacy: what is masked" for what is and is not masked.
import { maskDigits, maskNumber } from '../privacy/index.js';
import { findNumber, normalizeNumber, type NumberForms } from './numbers.js';

/**
 * Percent-decodes every well-formed %XX run and leaves malformed escapes as they are (one bad
 * `%` must not hide the rest); with `form`, `+` is a space first, as in a query string.
 */
export function decodeLoosely(text: string, form: boolean): string {
  let out = form && text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!out.includes('%')) return out;
  out = out.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // An invalid UTF-8 sequence: decode byte by byte as Latin-1 so digits still come out.
      return run.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
  return out;
}

const NON_ASCII = /[^\x00-\x7f]/;
const UNICODE_DIGIT = /\p{Nd}/gu;
const IS_DIGIT = /^\p{Nd}$/u;
const digitValues = new Map<number, string>();

/**
 * The ASCII digit of a Unicode decimal digit. Unicode keeps every script's digits as
 * contiguous runs of whole 0–9 blocks (its stability policy), so a digit's value is its
 * distance from the start of its run, modulo 10.
 */
function asciiDigit(char: string): string {
  const cp = char.codePointAt(0)!;
  let value = digitValues.get(cp);
  if (value === undefined) {
    let start = cp;
    while (start > 0 && IS_DIGIT.test(String.fromCodePoint(start - 1))) start--;
    value = String((cp - start) % 10);
    if (digitValues.size < 4096) digitValues.set(cp, value);
  }
  return value;
}

/** Every decimal digit of any script (full-width `４`, Arabic-Indic `٤`, …) as its ASCII digit. */
export function asciiDigits(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  return text.replace(UNICODE_DIGIT, (d) => (d.length === 1 && d.charCodeAt(0) < 128 ? d : asciiDigit(d)));
}

/** The text as the detector searches it: decoded, digits in ASCII. */
export function searchable(text: string, form: boolean): string {
  return asciiDigits(decodeLoosely(text, form));
}

/** A run of 9 to 15 digits, maybe after a `+`, maybe split by single spaces, dots or dashes. */
const NUMBER_LIKE = /\+?\d(?:[ .-]?\d){8,14}(?![ .-]?\d)/g;
/** The fewest digits NUMBER_LIKE matches. */
const NUMBER_LIKE_MIN_DIGITS = 9;

/**
 * True when `text` holds fewer than `least` digits and nothing that decoding could turn into
 * one (no `%`, nothing beyond ASCII; reading `+` as a space adds none): then no spelling of a
 * number that long is in it, decoded or not. One pass over the characters, no string made:
 * most texts judged (header values, request keys, short paths) are of this kind.
 */
export function holdsFewerDigits(text: string, least: number): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits >= least) return false;
    } else if (c === 37 /* % */ || c >= 128) return false;
  }
  return true;
}

/**
 * Masks every digit run of `text` that libphonenumber reads as a possible number of the
 * region: another person's number in a URL (a friend's, a caller's) as well as the
 * subscriber's. Long ids that happen to read as numbers are masked as well; a store that
 * over-masks is the safer error. `plus`: a masked run is written `+4477009****23` (for URLs);
 * otherwise as digits only, `4477009****23`, so a host or header name keeps its characters.
 */
export function maskPossibleNumbers(text: string, region: string, plus: boolean): string {
  if (text.length < 9) return text;
  return text.replace(NUMBER_LIKE, (run) => {
    const forms = normalizeNumber(run, region);
    if (forms === null) return run;
    return plus ? maskNumber(forms.e164) : maskDigits(forms.e164.slice(1));
  });
}

/**
 * Masks every occurrence of `number` in `subject` (already searchable), a `+` just before it
 * included. Null when the number is not there.
 */
export function maskSubscriber(subject: string, number: NumberForms, plus: boolean): string | null {
  if (subject.length < number.minLength) return null;
  const ranges = findNumber(subject, number);
  if (ranges === null) return null;
  const masked = plus ? maskNumber(number.e164) : maskDigits(number.e164.slice(1));
  let out = '';
  let at = 0;
  for (const [start, end] of ranges) {
    const from = start > at && subject.charCodeAt(start - 1) === 43 /* + */ ? start - 1 : start;
    out += subject.slice(at, from) + masked;
    at = end;
  }
  return out + subject.slice(at);
}

export interface RedactedText {
  /** What is stored: the text as logged when it held no number, else the searchable text masked. */
  text: string;
  /** True when the subscriber's number was found in it. */
  subscriberFound: boolean;
}

/**
 * A path, query, host or carried field as it may be kept. When no number is in it, it is
 * kept exactly as logged; when one is, the decoded text is kept with every number masked, so
 * no spelling of a number survives, escaped or not.
 */
export function redact(text: string, form: boolean, number: NumberForms | null, region: string, plus: boolean): RedactedText {
  // Neither the subscriber's shortest spelling nor any number maskPossibleNumbers masks fits.
  const least = number === null ? NUMBER_LIKE_MIN_DIGITS : Math.min(NUMBER_LIKE_MIN_DIGITS, number.minLength);
  if (text.length === 0 || holdsFewerDigits(text, least)) return { text, subscriberFound: false };
  const subject = searchable(text, form);
  const withSubscriber = number === null ? null : maskSubscriber(subject, number, plus);
  const base = withSubscriber ?? subject;
  const masked = maskPossibleNumbers(base, region, plus);
  if (withSubscriber === null && masked === subject) return { text, subscriberFound: false };
  return { text: masked, subscriberFound: withSubscriber !== null };
}
