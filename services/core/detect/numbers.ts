// Subscriber numbers: normalising what a gateway logged to E.164 with the registry's
// region, and finding a known number inside free text (header values, URLs) in any of its
// usual spellings. Reading follows libphonenumber-js's metadata and rules exactly, with its
// patterns compiled once (number-reading.ts); the results are memoised per distinct input
// because the same subscribers recur on every request.
import { Metadata, getCountryCallingCode, isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import { readNumber, type NumberReading } from './number-reading.js';

/** A subscriber number with the digit strings it may be written as. */
export interface NumberForms {
  /** `+` and the E.164 digits. */
  e164: string;
  /**
   * Digit-only spellings: E.164 digits (`447700900123`), international with `00`
   * (`00447700900123`), national with its trunk prefix (`07700900123`), the national
   * number alone as `msisdn-no-cc` variables insert it (`7700900123`), and the
   * `+44 (0)7700…` habit (`4407700900123`).
   */
  spellings: ReadonlySet<string>;
  minLength: number;
  maxLength: number;
}

const MEMO_LIMIT = 200_000;
/** region → raw spelling → forms; two levels so the hot path builds no key strings. */
const memo = new Map<string, Map<string, NumberForms | null>>();

/**
 * Reads a number as a gateway or a user writes it: `+447700900123`, `447700900123`,
 * `00447700900123`, `07700900123`, `+44 7700 900123`, `(201) 555-0123`,
 * `tel:+1-201-555-0123`. The reading follows `region`:
 * 1. written with `+` or `00`: international (E.164);
 * 2. digits that start with the region's country calling code and are possible as E.164: E.164;
 * 3. else digits possible as a national number of the region (with or without its trunk
 *    prefix): national — `2015550123` in US is +1 201 555 0123, not Egypt's +20 1555 0123;
 * 4. else (an inbound roamer's number as the gateway logs it): E.164 if possible.
 * So a digit string that is both a national number of the region and another country's E.164
 * is national: the region's own subscribers are the gateway's subscribers.
 * A number that libphonenumber does not consider a possible number (length and prefix) is null; we do
 * not require "valid" because test ranges (Ofcom's 07700 900xxx) are possible but not valid.
 */
export function normalizeNumber(raw: string, region: string): NumberForms | null {
  let byRaw = memo.get(region);
  if (byRaw === undefined) memo.set(region, (byRaw = new Map()));
  const cached = byRaw.get(raw);
  if (cached !== undefined) return cached;
  const forms = parseForms(raw, region);
  if (byRaw.size >= MEMO_LIMIT) byRaw.clear();
  byRaw.set(raw, forms);
  return forms;
}

/** Reads one candidate (`+` and digits, or digits) with the region as default country, or null. */
export type NumberReader = (candidate: string, region: string) => NumberReading | null;

/**
 * normalizeNumber without the memo, reading candidates with `read`: the fast mirror of
 * libphonenumber (number-reading.ts) by default; the equality test passes libphonenumber's own
 * parsePhoneNumberFromString to prove both give the same forms.
 */
export function parseForms(raw: string, region: string, read: NumberReader = readNumber): NumberForms | null {
  // A session's number is nearly always logged as bare digits, which the checks below pass as they are.
  const plain = isAsciiDigits(raw);
  let trimmed = plain ? raw : raw.trim();
  if (!plain) {
    if (/^tel:/i.test(trimmed)) trimmed = trimmed.slice(4); // RFC 3966 URI, as dialers and who-saw users write it
    if (trimmed === '' || !/^[+\d(][\d\s\-().]*$/.test(trimmed) || !/\d/.test(trimmed)) return null;
  }
  const digits = plain ? raw : trimmed.replace(/\D/g, '');
  if (digits.length < 6 || digits.length > 17) return null;
  if (trimmed.startsWith('+')) return formsOfReading(read(`+${digits}`, region));
  if (digits.startsWith('00')) return formsOfReading(read(`+${digits.slice(2)}`, region));
  const home = callingCodeOf(region);
  if (home !== null && digits.startsWith(home)) {
    const international = read(`+${digits}`, region);
    if (international !== null && international.countryCallingCode === home) return formsOfReading(international);
  }
  const national = home === null ? null : read(digits, region);
  if (national !== null && national.countryCallingCode === home) return formsOfReading(national);
  return formsOfReading(read(`+${digits}`, region)); // an inbound roamer
}

function isAsciiDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

function formsOfReading(reading: NumberReading | null): NumberForms | null {
  if (reading === null) return null;
  return formsOf(reading.number, reading.countryCallingCode, reading.nationalNumber, trunkPrefixOf(reading.country));
}

const metadata = new Metadata();
const trunkPrefixes = new Map<string, string | null>();

/** The national (trunk) prefix the number's country dials, when it is not `0` (RU `8`, US `1`). */
function trunkPrefixOf(country: string | undefined): string | null {
  if (country === undefined) return null;
  const known = trunkPrefixes.get(country);
  if (known !== undefined) return known;
  let prefix: string | null = null;
  try {
    metadata.selectNumberingPlan(country as CountryCode);
    // The typings omit nationalPrefix(), which the numbering plan has.
    // The compressed metadata holds some prefixes as numbers (IT's and MX's 0): read as text.
    const plan = metadata.numberingPlan as unknown as { nationalPrefix?: () => string | number | undefined } | undefined;
    const written = plan?.nationalPrefix?.();
    prefix = written === undefined || written === null ? null : String(written);
  } catch {
    prefix = null;
  }
  if (prefix !== null && (prefix === '0' || !/^\d{1,4}$/.test(prefix))) prefix = null;
  trunkPrefixes.set(country, prefix);
  return prefix;
}

const homeCodes = new Map<string, string | null>();

/** The region's country calling code, or null for a region libphonenumber does not know; once per region. */
function callingCodeOf(region: string): string | null {
  let code = homeCodes.get(region);
  if (code === undefined) {
    try {
      code = isSupportedCountry(region) ? getCountryCallingCode(region as CountryCode) : null;
    } catch {
      code = null;
    }
    homeCodes.set(region, code);
  }
  return code;
}

function formsOf(e164: string, countryCode: string, national: string, trunkPrefix: string | null): NumberForms {
  return new Forms(e164, countryCode, national, trunkPrefix);
}

/**
 * The spellings are made when first asked for: most numbers read (each session's, on every
 * request) are never looked for in a text long enough to hold one, and the set of strings is
 * most of what a memo entry costs to build and keep. The lengths are known without it: the
 * national number alone is the shortest spelling (every other adds digits to it), and the
 * longest is `00` and the E.164 digits or the trunk prefix and the national number.
 */
class Forms implements NumberForms {
  readonly minLength: number;
  readonly maxLength: number;
  private built: ReadonlySet<string> | null = null;

  constructor(
    readonly e164: string,
    private readonly countryCode: string,
    private readonly national: string,
    private readonly trunkPrefix: string | null,
  ) {
    this.minLength = national.length;
    this.maxLength = Math.max(e164.length + 1, trunkPrefix === null ? 0 : trunkPrefix.length + national.length);
  }

  get spellings(): ReadonlySet<string> {
    if (this.built === null) {
      const international = this.e164.slice(1);
      const national = this.national;
      const spellings = new Set([international, `00${international}`, `0${national}`, national, `${this.countryCode}0${national}`]);
      if (this.trunkPrefix !== null) spellings.add(`${this.trunkPrefix}${national}`);
      this.built = spellings;
    }
    return this.built;
  }
}

/** Characters that may separate the digit groups of one written number: `+44 (0)7700-900.123`. */
function isSeparator(code: number): boolean {
  return code === 32 /* space */ || code === 45 /* - */ || code === 46 /* . */ || code === 40 /* ( */ || code === 41 /* ) */;
}

const MAX_GROUP_GAP = 2; // `) ` between `(0)` and the rest is the longest gap seen in practice

// Reused scratch space for digit-group boundaries: the scan is synchronous, so one buffer serves all calls.
let groupStart = new Int32Array(64);
let groupEnd = new Int32Array(64);

/**
 * Where `text` contains `number` in one of its spellings, as [start, end) character
 * ranges. A spelling must be made of whole digit groups: `99447700900123991` does not
 * contain `447700900123`, because a longer digit string is a different number; groups may
 * be joined by at most two separator characters (spaces, dashes, dots, brackets).
 */
export function findNumber(text: string, number: NumberForms): Array<[number, number]> | null {
  const length = text.length;
  if (length < number.minLength) return null;
  let groups = 0;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      const start = i;
      do i++; while (i < length && isDigit(text.charCodeAt(i)));
      if (groups === groupStart.length) growGroups();
      groupStart[groups] = start;
      groupEnd[groups] = i;
      groups++;
    } else {
      i++;
    }
  }
  if (groups === 0) return null;
  let found: Array<[number, number]> | null = null;
  for (let g = 0; g < groups; g++) {
    // Measure the chain of joinable groups first: most chains (versions, IPs, sizes) are
    // too short to be a number, and are dismissed without building a string.
    let last = g;
    let length = groupEnd[g]! - groupStart[g]!;
    while (length < number.minLength && last + 1 < groups && joinable(text, groupEnd[last]!, groupStart[last + 1]!)) {
      last++;
      length += groupEnd[last]! - groupStart[last]!;
    }
    if (length < number.minLength) {
      g = last; // no group inside this chain can start a long-enough spelling either
      continue;
    }
    let digits = '';
    for (let h = g; h < groups; h++) {
      if (h > g && !joinable(text, groupEnd[h - 1]!, groupStart[h]!)) break;
      digits += text.slice(groupStart[h]!, groupEnd[h]!);
      if (digits.length > number.maxLength) break;
      if (digits.length >= number.minLength && number.spellings.has(digits)) {
        (found ??= []).push([groupStart[g]!, groupEnd[h]!]);
        g = h; // the next match starts after this one
        break;
      }
    }
  }
  return found;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function joinable(text: string, gapStart: number, gapEnd: number): boolean {
  if (gapEnd - gapStart > MAX_GROUP_GAP) return false;
  for (let k = gapStart; k < gapEnd; k++) if (!isSeparator(text.charCodeAt(k))) return false;
  return true;
}

function growGroups(): void {
  const start = new Int32Array(groupStart.length * 2);
  const end = new Int32Array(groupEnd.length * 2);
  start.set(groupStart);
  end.set(groupEnd);
  groupStart = start;
  groupEnd = end;
}

/** The first possible number written in `text` (an identity header's value), or null. */
export function firstNumberIn(text: string, region: string): NumberForms | null {
  // Candidates are maximal runs of digits and separators, optionally after a '+':
  // `GPRS,,358505476123,unsecured` gives `358505476123`.
  const runs = text.match(/\+?\d[\d\s\-().]{4,22}\d/g);
  if (!runs) return null;
  for (const run of runs) {
    const forms = normalizeNumber(run, region);
    if (forms) return forms;
  }
  return null;
}
