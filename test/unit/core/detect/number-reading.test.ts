// The fast reading of numbers (number-reading.ts) against libphonenumber-js's own
// parsePhoneNumberFromString, the way normalizeNumber called it before: the same reading (E.164,
// calling code, national number, country) for every candidate, and so the same forms, over
// every region's example numbers in all the spellings gateways and users write, read in their
// own region and in others, over mutations of them (a digit more or less, other last digits:
// where the country patterns of shared calling codes decide), and over random digit strings.
import examplesJson from 'libphonenumber-js/mobile/examples';
import { getCountries, getCountryCallingCode, getExampleNumber, parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readNumber, type NumberReading } from '../../../../services/core/detect/number-reading.js';
import { parseForms, type NumberForms } from '../../../../services/core/detect/numbers.js';

const E164 = /^\+[1-9][0-9]{1,14}$/;

/** What normalizeNumber did before: libphonenumber parses, the number must be possible and fit E.164. */
function libphonenumberReading(candidate: string, region: string): NumberReading | null {
  let parsed: PhoneNumber | undefined;
  try {
    parsed = parsePhoneNumberFromString(candidate, region as CountryCode);
  } catch {
    return null;
  }
  if (!parsed || !parsed.isPossible() || !E164.test(parsed.number)) return null;
  return { number: parsed.number, countryCallingCode: parsed.countryCallingCode, nationalNumber: parsed.nationalNumber, country: parsed.country };
}

function plain(forms: NumberForms | null): unknown {
  return forms === null ? null : { e164: forms.e164, spellings: [...forms.spellings].sort(), minLength: forms.minLength, maxLength: forms.maxLength };
}

const COUNTRIES = getCountries();
// Regions a gateway may be in, whose rules differ: trunk prefixes 0, 8, 1, none; IDD 00, 011, 810, 0011; shared calling codes.
const READ_IN = ['GB', 'US', 'CA', 'RU', 'KZ', 'DE', 'IN', 'AU', 'FR', 'IT', 'BR', 'AR', 'MX', 'JP', 'FI', 'GG', 'JM', 'BY', 'XX'];

interface Example { region: CountryCode; e164: string; national: string; writtenNational: string; writtenInternational: string }

const EXAMPLES: Example[] = COUNTRIES.flatMap((region) => {
  const n = getExampleNumber(region, examplesJson);
  return n ? [{ region, e164: n.number, national: n.nationalNumber, writtenNational: n.formatNational(), writtenInternational: n.formatInternational() }] : [];
});

function spellings(x: { e164: string; national: string; writtenNational: string; writtenInternational: string }): string[] {
  const digits = x.e164.slice(1);
  const cc = digits.slice(0, digits.length - x.national.length);
  return [
    x.e164, digits, `00${digits}`, `011${digits}`, `810${digits}`, x.national, x.writtenNational, x.writtenNational.replace(/\D/g, ''),
    x.writtenInternational, `tel:${x.e164}`, `tel:+${cc}-${x.national.slice(0, 3)}-${x.national.slice(3)}`,
    `(${x.national.slice(0, 3)}) ${x.national.slice(3)}`, `+${cc} (0)${x.national}`, `${cc}0${x.national}`, `8${x.national}`, `1${x.national}`,
  ];
}

/** Both readings of `raw` in `region`, for every candidate parseForms would read, and the forms. */
function expectSame(raw: string, region: string): void {
  expect(plain(parseForms(raw, region)), `${raw} in ${region}`).toEqual(plain(parseForms(raw, region, libphonenumberReading)));
}

function expectSameReading(candidate: string, region: string): void {
  expect(readNumber(candidate, region), `${candidate} in ${region}`).toEqual(libphonenumberReading(candidate, region));
}

describe('the fast reading of numbers equals libphonenumber', () => {
  it('has an example number for nearly every region', () => {
    expect(EXAMPLES.length).toBeGreaterThan(240);
  });

  it('reads every region example in every spelling, in its own region and in others, as libphonenumber does', () => {
    let checked = 0;
    let numbers = 0;
    for (const x of EXAMPLES) {
      for (const raw of spellings(x)) {
        for (const region of [x.region, ...READ_IN]) {
          expectSame(raw, region);
          checked++;
          const digits = raw.replace(/\D/g, '');
          expectSameReading(`+${digits}`, region);
          expectSameReading(digits, region);
          if (parseForms(raw, region) !== null) numbers++;
        }
      }
    }
    expect(checked).toBeGreaterThan(70_000);
    expect(numbers).toBeGreaterThan(checked / 3); // the corpus is mostly numbers, not mostly refusals
  });

  it('reads mutated examples (a digit more or less, other last digits) as libphonenumber does', () => {
    const digit = fc.integer({ min: 0, max: 9 }).map(String);
    const mutated = fc.record({
      x: fc.constantFrom(...EXAMPLES),
      cut: fc.integer({ min: 0, max: 4 }),
      tail: fc.array(digit, { minLength: 0, maxLength: 6 }).map((d) => d.join('')),
      region: fc.constantFrom(...READ_IN, ...COUNTRIES),
      form: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(mutated, ({ x, cut, tail, region, form }) => {
        const national = x.national.slice(0, Math.max(1, x.national.length - cut)) + tail;
        const cc = getCountryCallingCode(x.region);
        const raw = [`+${cc}${national}`, `${cc}${national}`, national, `0${national}`][form]!;
        expectSame(raw, region);
        expectSameReading(`+${cc}${national}`, region);
        expectSameReading(national, region);
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads random digit strings after calling codes, trunk and international prefixes as libphonenumber does', () => {
    const prefixes = ['', '+', '0', '00', '8', '1', '011', '810', '0011', '+1', '+7', '+44', '+47', '+61', '+262', '+358', '+590', '+599', '+800', '+882', '+979', '44', '7', '1'];
    const corpus = fc.record({
      prefix: fc.constantFrom(...prefixes),
      digits: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 4, maxLength: 16 }).map((d) => d.join('')),
      region: fc.constantFrom(...READ_IN, ...COUNTRIES),
    });
    fc.assert(
      fc.property(corpus, ({ prefix, digits, region }) => {
        expectSame(prefix + digits, region);
        const all = (prefix + digits).replace(/\D/g, '');
        expectSameReading(`+${all}`, region);
        expectSameReading(all, region);
      }),
      { numRuns: 30_000 },
    );
  });

  it('reads the bench\'s unallocated +44 7700 9… numbers, where no type pattern matches, as libphonenumber does', () => {
    for (const raw of ['447700900123', '+447700900123', '07700900123', '7700900123', '4407700900123', '00447700900123']) {
      expectSame(raw, 'GB');
      expect(parseForms(raw, 'GB')?.e164).toBe('+447700900123');
    }
    expect(readNumber('+447700900123', 'GB')?.country).toBeUndefined(); // libphonenumber decides no country: GB's patterns leave 07700 900xxx out
  });
});
