// Reading numbers by region (issue 13 item 1), over libphonenumber's own example mobile numbers:
// every usual form of each region's example must normalise to its E.164, in its own region's logs,
// and a roamer's E.164 digits in another region's logs must too, unless they are also a possible
// national number of that region (the ambiguous case: national wins, tested below).
import examples from 'libphonenumber-js/mobile/examples';
import { getExampleNumber, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { findNumber, normalizeNumber } from '../../../../services/core/detect/index.js';

const REGIONS = [
  'GB', 'DE', 'US', 'IN', 'KE', 'FI', 'FR', 'ES', 'IT', 'NL', 'BR', 'MX', 'JP', 'AU', 'ZA', 'NG',
  'EG', 'TR', 'PL', 'SE', 'CA', 'RU', 'CN', 'KR', 'ID',
] as const satisfies readonly CountryCode[];

interface Example { region: CountryCode; e164: string; cc: string; national: string; writtenNational: string }

const EXAMPLES: Example[] = REGIONS.map((region) => {
  const n = getExampleNumber(region, examples)!;
  return { region, e164: n.number, cc: n.countryCallingCode, national: n.nationalNumber, writtenNational: n.formatNational() };
});

function formsOf(x: Example): Array<[string, string]> {
  const digits = x.e164.slice(1);
  const forms: Array<[string, string]> = [
    ['E.164 digits', digits],
    ['+E.164', x.e164],
    ['00 E.164', `00${digits}`],
    ['international as written', parsePhoneNumberFromString(x.e164)!.formatInternational()],
    ['national without trunk prefix', x.national],
    ['national as written', x.writtenNational],
  ];
  const nationalDigits = x.writtenNational.replace(/\D/g, '');
  // Where the region writes a trunk prefix (GB 0, RU 8, …): its digits with that prefix.
  if (nationalDigits !== x.national) forms.push(['national with trunk prefix', nationalDigits]);
  return forms;
}

const OWN_CASES = EXAMPLES.flatMap((x) => formsOf(x).map(([form, raw]) => [x.region, form, raw, x.e164] as const));

describe('normalizeNumber follows the region', () => {
  it('covers at least 20 regions, each in every form', () => {
    expect(new Set(OWN_CASES.map((c) => c[0])).size).toBeGreaterThanOrEqual(20);
    expect(OWN_CASES.filter((c) => c[1] === 'national with trunk prefix').length).toBeGreaterThanOrEqual(17); // the regions whose national form writes a trunk prefix
  });

  it.each(OWN_CASES)('%s: %s %j is %s', (region, _form, raw, e164) => {
    expect(normalizeNumber(raw, region)?.e164).toBe(e164);
  });

  it.each(EXAMPLES.map((x) => [x.region, x.e164, x.national] as const))(
    '%s: the detector finds %s written nationally (%s) in a header value', (region, e164, national) => {
      const forms = normalizeNumber(e164, region)!;
      expect(forms.spellings.has(national)).toBe(true);
      expect(findNumber(`msisdn=${national};x=1`, forms)).not.toBeNull();
    });

  it.each(OWN_CASES)('%s: %s %j has the lengths of its shortest and longest spelling', (region, _form, raw) => {
    const forms = normalizeNumber(raw, region)!;
    const lengths = [...forms.spellings].map((s) => s.length);
    expect([forms.minLength, forms.maxLength]).toEqual([Math.min(...lengths), Math.max(...lengths)]);
  });

  it.each(OWN_CASES.filter((c) => c[1] !== 'international as written' && c[1] !== 'national as written'))(
    '%s: the detector finds the number in a header value written as %s %j', (region, _form, raw, e164) => {
      const forms = normalizeNumber(e164, region)!;
      expect(findNumber(`id=${raw};x=1`, forms)).not.toBeNull();
    });

  it.each([
    ['2015550123', 'US', '+12015550123'], // not Egypt's +20 1555 0123
    ['15123456789', 'DE', '+4915123456789'],
    ['8123456789', 'IN', '+918123456789'],
    ['(201) 555-0123', 'US', '+12015550123'],
    ['tel:+1-201-555-0123', 'US', '+12015550123'],
    ['tel:+1-201-555-0123', 'GB', '+12015550123'],
    ['TEL:07700900123', 'GB', '+447700900123'],
    ['1 (201) 555-0123', 'US', '+12015550123'],
  ])('reads %j in region %s as %s', (raw, region, e164) => {
    expect(normalizeNumber(raw, region)?.e164).toBe(e164);
  });

  it.each(['tel:', 'tel:abc', '()', '(', 'tel:tel:+12015550123', '+1 201 555 0123 ext'])('refuses %j', (raw) => {
    expect(normalizeNumber(raw, 'US')).toBeNull();
  });
});

/** Whether `digits` are a possible national number of `region` (the reading's step 3). */
function possibleNational(digits: string, region: CountryCode): boolean {
  const p = parsePhoneNumberFromString(digits, region);
  // A "possible" national number whose E.164 would exceed 15 digits is no number (NG's lengths).
  return p !== undefined && p.isPossible() && p.number.length <= 16 && p.countryCallingCode === getExampleNumber(region, examples)!.countryCallingCode;
}

const ROAMERS = REGIONS.flatMap((home) => EXAMPLES.filter((x) => x.region !== home).map((x) => {
  const digits = x.e164.slice(1);
  const homeCc = EXAMPLES.find((e) => e.region === home)!.cc;
  const ambiguous = !digits.startsWith(homeCc) && possibleNational(digits, home);
  return { home, roamer: x, digits, ambiguous };
}));

describe('inbound roamers', () => {
  const clear = ROAMERS.filter((r) => !r.ambiguous);
  const ambiguous = ROAMERS.filter((r) => r.ambiguous);

  it('most pairs are not ambiguous', () => {
    expect(clear.length).toBeGreaterThan(ambiguous.length);
  });

  it.each(clear.map((r) => [r.roamer.region, r.digits, r.home, r.roamer.e164] as const))(
    'a %s roamer logged as %s in %s logs is %s', (_from, digits, home, e164) => {
      expect(normalizeNumber(digits, home)?.e164).toBe(e164);
      expect(normalizeNumber(`+${digits}`, home)?.e164).toBe(e164);
      expect(normalizeNumber(`00${digits}`, home)?.e164).toBe(e164);
    });

  // The ambiguous case: digits that are both another country's E.164 and a possible national
  // number of the logging region are read as national (the gateway's own subscribers are the
  // region's); a roamer's number is read right when written with + or 00.
  it.each(ambiguous.map((r) => [r.roamer.region, r.digits, r.home, r.roamer.e164] as const))(
    'ambiguous: %s E.164 digits %s in %s logs are read as a national number there', (_from, digits, home, e164) => {
      const read = normalizeNumber(digits, home)!;
      expect(read.e164).toBe(parsePhoneNumberFromString(digits, home)!.number);
      expect(read.e164).not.toBe(e164);
      expect(normalizeNumber(`+${digits}`, home)?.e164).toBe(e164);
      expect(normalizeNumber(`00${digits}`, home)?.e164).toBe(e164);
    });

  it('an E.164 that starts with the region\'s own country code stays E.164', () => {
    // 4917… in DE: Leer's area code 0491 could make it national, but +49 wins.
    expect(normalizeNumber('4915123456789', 'DE')?.e164).toBe('+4915123456789');
    expect(normalizeNumber('447400123456', 'GB')?.e164).toBe('+447400123456');
    expect(normalizeNumber('12015550123', 'CA')?.e164).toBe('+12015550123');
  });
});
