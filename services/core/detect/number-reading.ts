// Reading one candidate number the way libphonenumber-js's parsePhoneNumberFromString reads
// it, for the only inputs normalizeNumber hands it (`+` and digits, or digits alone, with the
// region as default country), and with the same metadata — but with every pattern of the
// metadata compiled once. libphonenumber compiles a new RegExp for each pattern it tries (the
// national-number and type patterns of each candidate country of a shared calling code, the
// trunk prefix, the IDD prefix), which made the first sight of each subscriber's number cost
// 26–70 µs in the detector; here it costs a few. The steps and their order are
// libphonenumber's own (parse → extractCountryCallingCode → extractNationalNumber →
// getCountryByCallingCode → isPossible); README "Choices made where the design is silent",
// Numbers, says why, and how the mirror is proved equal (number-reading.test.ts compares the two
// over every region's example numbers in all their spellings and large random corpora).
import { Metadata, isSupportedCountry } from 'libphonenumber-js';

/** What normalizeNumber needs of a reading: the E.164 number, its parts and the country decided. */
export interface NumberReading {
  /** `+` and the digits. */
  number: string;
  countryCallingCode: string;
  nationalNumber: string;
  /** The country libphonenumber decides, or undefined where it decides none. */
  country: string | undefined;
}

// libphonenumber's bounds (constants.js) on the national significant number and the calling code.
const MIN_LENGTH_FOR_NSN = 2;
const MAX_LENGTH_FOR_NSN = 17;
const MAX_LENGTH_COUNTRY_CODE = 3;
// libphonenumber calls some digit strings "possible" that E.164 cannot hold (more than 15
// digits: `+82 71237700900445`); such a value is not a number, so nothing downstream (masking,
// hashing, encryption, which all require E.164) is ever handed one.
const E164 = /^\+[1-9][0-9]{1,14}$/;

interface TypePattern {
  pattern: RegExp;
  lengths: readonly number[] | undefined;
}

/** One numbering plan's data, patterns compiled the way libphonenumber uses them. */
interface Plan {
  callingCode: string;
  possibleLengths: readonly number[] | undefined;
  /** `matchesEntirely(number, nationalNumberPattern())`. */
  nationalNumber: RegExp;
  /** `^(?:nationalPrefixForParsing)`, or null when the plan has none. */
  prefixForParsing: RegExp | null;
  transformRule: string | undefined;
  /** `number.search(leadingDigits()) === 0`, or null when the plan has none. */
  leadingDigits: RegExp | null;
  /** `isNumberTypeEqualTo` for FIXED_LINE, then the other types in libphonenumber's order; types without a pattern left out. */
  types: readonly TypePattern[];
  /** `new RegExp(IDDPrefix())`. */
  idd: RegExp;
}

// getNumberType's order: FIXED_LINE, then NON_FIXED_LINE_PHONE_TYPES.
const TYPE_ORDER = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'] as const;

// The typings of libphonenumber-js's Metadata omit the numbering plan's accessors this reads.
interface RawType {
  pattern(): string | undefined;
  possibleLengths(): number[] | undefined;
}
interface RawPlan {
  callingCode(): string;
  possibleLengths(): number[] | undefined;
  nationalNumberPattern(): string;
  nationalPrefixForParsing(): string | undefined;
  nationalPrefixTransformRule(): string | undefined;
  leadingDigits(): string | undefined;
  IDDPrefix(): string | undefined;
  type(type: string): RawType | undefined;
}
interface RawMetadata {
  selectNumberingPlan(selector: string): RawMetadata;
  numberingPlan: RawPlan;
  hasCallingCode(code: string): boolean | undefined;
  getCountryCodesForCallingCode(code: string): string[] | undefined;
}

const metadata = new Metadata() as unknown as RawMetadata;
const plans = new Map<string, Plan>();
const callingCodes = new Map<string, boolean>();
const countriesOfCode = new Map<string, readonly string[] | undefined>();

/** The plan `selectNumberingPlan(selector)` selects: a country, or a calling code's main country (or non-geographic plan). */
function planOf(selector: string): Plan {
  let plan = plans.get(selector);
  if (plan === undefined) {
    const raw = metadata.selectNumberingPlan(selector).numberingPlan;
    const prefix = raw.nationalPrefixForParsing();
    const leading = raw.leadingDigits();
    const types: TypePattern[] = [];
    for (const name of TYPE_ORDER) {
      const type = raw.type(name);
      const pattern = type?.pattern();
      if (type !== undefined && pattern) types.push({ pattern: entirely(pattern), lengths: type.possibleLengths() });
    }
    plan = {
      callingCode: raw.callingCode(),
      possibleLengths: raw.possibleLengths(),
      nationalNumber: entirely(raw.nationalNumberPattern()),
      prefixForParsing: prefix ? new RegExp(`^(?:${prefix})`) : null,
      transformRule: raw.nationalPrefixTransformRule(),
      leadingDigits: leading ? new RegExp(leading) : null,
      types,
      // String(undefined) as libphonenumber's `new RegExp(undefined)` would read it: the empty pattern.
      idd: new RegExp(raw.IDDPrefix() ?? ''),
    };
    plans.set(selector, plan);
  }
  return plan;
}

function entirely(pattern: string | undefined): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

const regions = new Map<string, boolean>();

/** isSupportedCountry, once per region (parsePhoneNumberFromString drops a default country it does not know). */
function supported(region: string): boolean {
  let known = regions.get(region);
  if (known === undefined) regions.set(region, (known = isSupportedCountry(region)));
  return known;
}

function hasCallingCode(code: string): boolean {
  let known = callingCodes.get(code);
  if (known === undefined) callingCodes.set(code, (known = metadata.hasCallingCode(code) === true));
  return known;
}

function countriesFor(code: string): readonly string[] | undefined {
  if (!countriesOfCode.has(code)) countriesOfCode.set(code, metadata.getCountryCodesForCallingCode(code));
  return countriesOfCode.get(code);
}

/**
 * parsePhoneNumberFromString(candidate, region), then isPossible() and an E.164 check, as
 * normalizeNumber used to call them; `candidate` is `+` and digits, or digits alone.
 */
export function readNumber(candidate: string, region: string): NumberReading | null {
  const defaultCountry = supported(region) ? region : undefined;
  let callingCode: string | undefined;
  let number: string | undefined;
  let international = candidate;
  if (candidate[0] !== '+') {
    const withoutIdd = defaultCountry === undefined ? undefined : stripIddPrefix(candidate, defaultCountry);
    if (withoutIdd && withoutIdd !== candidate) international = `+${withoutIdd}`;
    else {
      if (defaultCountry !== undefined) {
        const found = callingCodeWithoutPlus(candidate, defaultCountry);
        if (found !== null) [callingCode, number] = found;
      }
      number ??= candidate;
    }
  }
  if (number === undefined) {
    // International: a calling code, which never starts with 0, and the rest.
    if (international[1] === '0') return null;
    for (let i = 2; i - 1 <= MAX_LENGTH_COUNTRY_CODE && i <= international.length; i++) {
      const code = international.slice(1, i);
      if (hasCallingCode(code)) {
        callingCode = code;
        number = international.slice(i);
        break;
      }
    }
    if (callingCode === undefined) return null;
  }
  let country: string | undefined;
  let plan: Plan;
  if (callingCode !== undefined) plan = planOf(callingCode);
  else if (number && defaultCountry !== undefined) {
    country = defaultCountry;
    plan = planOf(defaultCountry);
    callingCode = plan.callingCode;
  } else return null;
  if (!number) return null;
  const nationalNumber = extractNationalNumber(number, plan);
  const exact = countryByCallingCode(callingCode, nationalNumber);
  if (exact !== undefined) country = exact;
  if (nationalNumber.length < MIN_LENGTH_FOR_NSN || nationalNumber.length > MAX_LENGTH_FOR_NSN) return null;
  const e164 = `+${callingCode}${nationalNumber}`;
  const possible = planOf(country || callingCode).possibleLengths;
  if (possible === undefined) throw new Error('Missing "possibleLengths" in metadata.'); // as isPossible(); the bundled metadata always has them
  if (checkLength(nationalNumber, possible) !== 'IS_POSSIBLE' || !E164.test(e164)) return null;
  return { number: e164, countryCallingCode: callingCode, nationalNumber, country };
}

/** helpers/stripIddPrefix: the digits after the region's international prefix, unless they start with 0. */
function stripIddPrefix(digits: string, country: string): string | undefined {
  const idd = planOf(country).idd;
  if (digits.search(idd) !== 0) return undefined;
  const rest = digits.slice(digits.match(idd)![0].length);
  if (rest[0] === '0') return undefined;
  return rest;
}

/** helpers/extractCountryCallingCodeFromInternationalNumberWithoutPlusSign. */
function callingCodeWithoutPlus(digits: string, country: string): [string, string] | null {
  const plan = planOf(country);
  const code = plan.callingCode;
  if (!digits.startsWith(code)) return null;
  const shorter = digits.slice(code.length);
  const shorterNational = extractNationalNumber(shorter, plan);
  const national = extractNationalNumber(digits, plan);
  if ((!plan.nationalNumber.test(national) && plan.nationalNumber.test(shorterNational)) || checkLength(national, plan.possibleLengths) === 'TOO_LONG') {
    return [code, shorter];
  }
  return null;
}

/** helpers/extractNationalNumber with no country given: strips the trunk prefix (or transforms) where the rest stays a possible number. */
function extractNationalNumber(number: string, plan: Plan): string {
  const national = stripNationalPrefix(number, plan);
  if (national === number) return number;
  // shouldHaveExtractedNationalPrefix
  if (plan.nationalNumber.test(number) && !plan.nationalNumber.test(national)) return number;
  if (plan.possibleLengths) {
    const country = countryByCallingCode(plan.callingCode, national);
    const lengths = country ? planOf(country).possibleLengths : plan.possibleLengths;
    const fit = checkLength(national, lengths);
    if (fit === 'TOO_SHORT' || fit === 'INVALID_LENGTH') return number;
  }
  return national;
}

/** helpers/extractNationalNumberFromPossiblyIncompleteNumber, the national number only. */
function stripNationalPrefix(number: string, plan: Plan): string {
  if (!number || plan.prefixForParsing === null) return number;
  const match = plan.prefixForParsing.exec(number);
  if (match === null) return number;
  const captured = match.length - 1;
  const hasCaptured = captured > 0 && match[captured];
  if (plan.transformRule && hasCaptured) return number.replace(plan.prefixForParsing, plan.transformRule);
  return number.slice(match[0].length);
}

/** helpers/getCountryByCallingCode → getCountryByNationalNumber. */
function countryByCallingCode(callingCode: string, nationalNumber: string): string | undefined {
  const countries = countriesFor(callingCode);
  if (countries === undefined) return undefined;
  if (countries.length === 1) return countries[0];
  for (const country of countries) {
    const plan = planOf(country);
    if (plan.leadingDigits !== null) {
      if (nationalNumber && nationalNumber.search(plan.leadingDigits) === 0) return country;
    } else if (hasNumberType(nationalNumber, plan)) return country;
  }
  return undefined;
}

/** helpers/getNumberType, as a yes or no. */
function hasNumberType(nationalNumber: string, plan: Plan): boolean {
  if (!plan.nationalNumber.test(nationalNumber)) return false;
  for (const type of plan.types) {
    const lengths = type.lengths ?? plan.possibleLengths;
    if (lengths && lengths.indexOf(nationalNumber.length) < 0) continue;
    if (type.pattern.test(nationalNumber)) return true;
  }
  return false;
}

type LengthFit = 'IS_POSSIBLE' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_LENGTH';

/** helpers/checkNumberLength with no type. */
function checkLength(nationalNumber: string, lengths: readonly number[] | undefined): LengthFit {
  if (!lengths) return 'IS_POSSIBLE';
  const length = nationalNumber.length;
  const min = lengths[0]!;
  if (min === length) return 'IS_POSSIBLE';
  if (min > length) return 'TOO_SHORT';
  if (lengths[lengths.length - 1]! < length) return 'TOO_LONG';
  return lengths.indexOf(length, 1) >= 0 ? 'IS_POSSIBLE' : 'INVALID_LENGTH';
}
