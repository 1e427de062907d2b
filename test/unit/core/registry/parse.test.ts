import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../../services/core/errors.js';
import { parseRegistry } from '../../../../services/core/registry/index.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/registry/${name}`, import.meta.url), 'utf8');

/** The problems parseRegistry reports for a text, or [] when it accepts it. */
function problemsOf(text: string): readonly string[] {
  try {
    parseRegistry(text, 'test.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof LeakscopeError)) throw err;
    expect(err.code).toBe('REGISTRY_INVALID');
    return err.problems;
  }
}

const HEAD = 'version: "1"\nregion: GB\n';
/** A registry with one partner whose fields are given as YAML flow-mapping text. */
function onePartner(fields: string): string {
  return `${HEAD}partners:\n  - {${fields}}\n`;
}
const OK = 'id: p, name: P Ltd, domains: [p.example], identifiers: [x-msisdn]';

describe('parseRegistry on the example registry', () => {
  const registry = parseRegistry(fixture('o2-gb.yaml'), 'o2-gb.yaml');

  it('reads the version, the region and the extra identity headers', () => {
    expect(registry.version).toBe('2012-01-25.1');
    expect(registry.region).toBe('GB');
    expect(registry.identityHeaders).toEqual(['x-o2-subscriber']);
  });

  it('keeps every entry, including the two periods of the carrier-billing partner', () => {
    expect(registry.partners.map((p) => p.id)).toEqual(['ageverify', 'paybill', 'paybill', 'ringtones', 'audimeter', 'buecher', 'o2-portal']);
    const [first, second] = registry.partners.filter((p) => p.id === 'paybill');
    expect(first!.validTo).toBe(Date.parse('2011-09-01T00:00:00Z'));
    expect(second!.validFrom).toBe(Date.parse('2011-09-01T00:00:00Z'));
    expect(second!.validTo).toBeNull();
    expect(second!.identifiers).toEqual(['x-up-calling-line-id', 'url']);
  });

  it('stores the ended contract with its exclusive end', () => {
    expect(registry.partners.find((p) => p.id === 'ringtones')!.validTo).toBe(Date.parse('2012-01-15T00:00:00Z'));
  });

  it('normalises Unicode domain patterns to punycode and applies zone offsets', () => {
    const buecher = registry.partners.find((p) => p.id === 'buecher')!;
    expect(buecher.domains).toEqual(['*.xn--bcher-kva.example', 'xn--bcher-kva.example']);
    expect(buecher.identifiers).toEqual(['x-msisdn', 'referer']);
    expect(buecher.validFrom).toBe(Date.parse('2011-10-31T23:00:00Z'));
  });

  it('treats an absent validity as always valid', () => {
    const audimeter = registry.partners.find((p) => p.id === 'audimeter')!;
    expect([audimeter.validFrom, audimeter.validTo]).toEqual([null, null]);
  });

  it('returns a frozen registry', () => {
    expect(Object.isFrozen(registry)).toBe(true);
    expect(Object.isFrozen(registry.partners)).toBe(true);
    expect(Object.isFrozen(registry.partners[0])).toBe(true);
    expect(Object.isFrozen(registry.partners[0]!.domains)).toBe(true);
  });

  it('reads the same registry written as JSON', () => {
    const json = parseRegistry(fixture('o2-gb.json'), 'o2-gb.json');
    expect(json.partners[0]).toEqual(registry.partners[0]);
  });
});

describe('parseRegistry accepts', () => {
  it.each([
    ['an empty partner list', `${HEAD}partners: []\n`],
    ['a lower-case region', 'version: "1"\nregion: gb\npartners: []\n'],
    ['a partner without purposes', onePartner(OK)],
    ['url and referer as identifiers', onePartner('id: p, name: P, domains: [p.example], identifiers: [url, referer, X-MSISDN]')],
    ['times with offsets and fractions', onePartner(`${OK}, valid_from: "2011-01-01T00:00+01:00", valid_to: "2012-01-01T00:00:00.123456Z"`)],
    ['explicit nulls for the validity', onePartner(`${OK}, valid_from: null, valid_to: null`)],
    ['overlapping periods of one partner with different identifiers',
      `${HEAD}partners:\n  - {${OK}, valid_from: "2011-01-01T00:00:00Z"}\n  - {id: p, name: P Ltd, domains: [p.example], identifiers: [url], valid_from: "2011-06-01T00:00:00Z"}\n`],
    ['a byte-order mark before the document', `\uFEFF${HEAD}partners: []\n`],
  ])('%s', (_title, text) => {
    expect(problemsOf(text)).toEqual([]);
  });

  it('upper-cases the region and lower-cases header names', () => {
    const registry = parseRegistry('version: "1"\nregion: gb\nidentity_headers: [X-O2-Subscriber]\npartners:\n  - {id: p, name: P, domains: [p.example], identifiers: [X-MSISDN]}\n', 't');
    expect(registry.region).toBe('GB');
    expect(registry.identityHeaders).toEqual(['x-o2-subscriber']);
    expect(registry.partners[0]!.identifiers).toEqual(['x-msisdn']);
  });

  it('merges duplicate patterns that are the same name in Unicode and punycode', () => {
    const registry = parseRegistry(onePartner('id: p, name: P, domains: [bücher.example, xn--bcher-kva.example, BÜCHER.example.], identifiers: [x-msisdn]'), 't');
    expect(registry.partners[0]!.domains).toEqual(['xn--bcher-kva.example']);
  });
});

describe('parseRegistry refuses', () => {
  it.each([
    ['an empty document', '', ['(root): the registry is empty; expected a mapping with keys version, region, partners']],
    ['a list at the root', '- a\n', ['(root): expected a mapping with keys version, region, identity_headers, partners, got a list']],
    ['a missing version', 'region: GB\npartners: []\n', ['version: required: a label for this registry, stored with every verdict, e.g. "2012-01-25.1"']],
    ['a numeric version', 'version: 1.10\nregion: GB\npartners: []\n', ['version: expected the version as a string, got the number 1.1 (put it in quotes)']],
    ['an empty version', 'version: " "\nregion: GB\npartners: []\n', ['version: the version is empty']],
    ['a missing region', 'version: "1"\npartners: []\n', ['region: required: the ISO 3166-1 alpha-2 code of the operator\'s country (e.g. GB), used for national-format numbers']],
    ['a three-letter region', 'version: "1"\nregion: GBR\npartners: []\n', ['region: expected an ISO 3166-1 alpha-2 country code such as "GB", got the string "GBR"']],
    ['an unknown region', 'version: "1"\nregion: XX\npartners: []\n', ['region: "XX": not a country with a telephone numbering plan (ISO 3166-1 alpha-2)']],
    ['missing partners', `${HEAD}`, ['partners: required: the list of trusted partners (may be empty: [])']],
    ['partners as a mapping', `${HEAD}partners: {a: 1}\n`, ['partners: expected a list of partners, got a mapping']],
    ['an unknown top-level key', `${HEAD}partners: []\npartner: []\n`, ['partner: unknown key; allowed keys are version, region, identity_headers, partners (did you mean "partners"?)']],
    ['an identity header that is not a token', `${HEAD}identity_headers: ["x o2"]\npartners: []\n`, ['identity_headers[0]: "x o2": not a header name (letters, digits and !#$%&\'*+-.^_`|~ only)']],
    ['Host as an identity header', `${HEAD}identity_headers: [Host]\npartners: []\n`, ['identity_headers[0]: "host": the Host header is never scanned, so it cannot carry a disclosure']],
    ['Referer as an identity header', `${HEAD}identity_headers: [referer]\npartners: []\n`, ['identity_headers[0]: "referer": the Referer is always scanned for the number; as an identity header every request with one would count as a disclosure']],
    ['identity headers that are not a list', `${HEAD}identity_headers: x-a\npartners: []\n`, ['identity_headers: expected a list of header names, got the string "x-a"']],
    ['a partner that is not a mapping', `${HEAD}partners: [ageverify]\n`, ['partners[0]: expected a partner (a mapping with keys id, name, purposes, domains, identifiers, valid_from, valid_to), got the string "ageverify"']],
    ['an unknown partner key', onePartner(`${OK}, domain: [x.example]`), ['partners[0].domain: unknown key; allowed keys are id, name, purposes, domains, identifiers, valid_from, valid_to (did you mean "domains"?)']],
    ['an unknown key far from any allowed one', onePartner(`${OK}, colour: blue`), ['partners[0].colour: unknown key; allowed keys are id, name, purposes, domains, identifiers, valid_from, valid_to']],
    ['a missing id', onePartner('name: P, domains: [p.example], identifiers: [x-msisdn]'), ['partners[0].id: required: a short slug naming the partner, e.g. "ageverify"']],
    ['an id that is not a slug', onePartner('id: Age Verify, name: P, domains: [p.example], identifiers: [x-msisdn]'), ['partners[0].id: "Age Verify": not a partner id (lower-case letters, digits, "-" and "_", starting and ending with a letter or digit, at most 64 characters)']],
    ['a numeric id', onePartner('id: 42, name: P, domains: [p.example], identifiers: [x-msisdn]'), ['partners[0].id: the number 42: not a partner id (lower-case letters, digits, "-" and "_", starting and ending with a letter or digit, at most 64 characters)']],
    ['a missing name', onePartner('id: p, domains: [p.example], identifiers: [x-msisdn]'), ['partners[0].name: required: the partner\'s legal or trading name']],
    ['purposes that are not a list', onePartner(`${OK}, purposes: billing`), ['partners[0].purposes: expected a list of purposes, got the string "billing"']],
    ['a purpose that is not a string', onePartner(`${OK}, purposes: [1]`), ['partners[0].purposes[0]: expected a purpose as a string, got the number 1 (put it in quotes)']],
    ['missing domains', onePartner('id: p, name: P, identifiers: [x-msisdn]'), ['partners[0].domains: required: the domain patterns the partner receives identifiers on, e.g. ["*.ageverify.example"]']],
    ['an empty domain list', onePartner('id: p, name: P, domains: [], identifiers: [x-msisdn]'), ['partners[0].domains: must list at least one of domain patterns']],
    ['a bare wildcard', onePartner('id: p, name: P, domains: [p.example, "*."], identifiers: [x-msisdn]'), ['partners[0].domains[1]: "*.": not a domain pattern']],
    ['a domain that is not a string', onePartner('id: p, name: P, domains: [{a: 1}], identifiers: [x-msisdn]'), ['partners[0].domains[0]: expected a domain pattern such as "example.com" or "*.example.com", got a mapping']],
    ['missing identifiers', onePartner('id: p, name: P, domains: [p.example]'), ['partners[0].identifiers: required: the identity headers (or "url", "referer") the partner may receive']],
    ['an empty identifier list', onePartner('id: p, name: P, domains: [p.example], identifiers: []'), ['partners[0].identifiers: must list at least one of identifiers (header names, "url" or "referer")']],
    ['an identifier written as a channel', onePartner('id: p, name: P, domains: [p.example], identifiers: ["header:x-msisdn"]'), ['partners[0].identifiers[0]: "header:x-msisdn": write the header name alone, as in "x-msisdn"']],
    ['Host as an identifier', onePartner('id: p, name: P, domains: [p.example], identifiers: [host]'), ['partners[0].identifiers[0]: "host": the Host header is never scanned, so it cannot carry a disclosure']],
    ['a date without a time', onePartner(`${OK}, valid_from: "2012-01-15"`), ['partners[0].valid_from: "2012-01-15": not an ISO-8601 time with a zone; write it as "2012-01-25T14:00:00Z" or "2012-01-25T14:00:00+00:00"']],
    ['a time without a zone', onePartner(`${OK}, valid_to: "2012-01-15T00:00:00"`), ['partners[0].valid_to: "2012-01-15T00:00:00": not an ISO-8601 time with a zone; write it as "2012-01-25T14:00:00Z" or "2012-01-25T14:00:00+00:00"']],
    ['an impossible date', onePartner(`${OK}, valid_from: "2012-02-30T00:00:00Z"`), ['partners[0].valid_from: "2012-02-30T00:00:00Z": not a real date and time']],
    ['an impossible hour', onePartner(`${OK}, valid_from: "2012-02-01T24:00:00Z"`), ['partners[0].valid_from: "2012-02-01T24:00:00Z": not a real date and time']],
    ['an out-of-range offset', onePartner(`${OK}, valid_from: "2012-02-01T00:00:00+25:00"`), ['partners[0].valid_from: "2012-02-01T00:00:00+25:00": the zone offset is out of range']],
    ['epoch milliseconds as a time', onePartner(`${OK}, valid_from: 1326585600000`), ['partners[0].valid_from: expected an ISO-8601 time with a zone such as "2012-01-25T14:00:00Z", or null, got the number 1326585600000']],
    ['an empty period', onePartner(`${OK}, valid_from: "2012-01-15T00:00:00Z", valid_to: "2012-01-15T01:00:00+01:00"`), ['partners[0].valid_to: "2012-01-15T01:00:00+01:00" must be after valid_from "2012-01-15T00:00:00Z" (valid_to is exclusive)']],
    ['a period that ends before it starts', onePartner(`${OK}, valid_from: "2012-02-01T00:00:00Z", valid_to: "2012-01-01T00:00:00Z"`), ['partners[0].valid_to: "2012-01-01T00:00:00Z" must be after valid_from "2012-02-01T00:00:00Z" (valid_to is exclusive)']],
    ['two names for one partner id', `${HEAD}partners:\n  - {${OK}}\n  - {id: p, name: P Limited, domains: [p.example], identifiers: [x-msisdn]}\n`,
      ['partners[1].name: "P Limited" differs from "P Ltd" given for partner "p" at partners[0]; entries with one id are periods of the same partner']],
  ])('%s', (_title, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it.each([
    ['broken flow syntax', fixture('invalid-syntax.yaml'), /^line 7, column 5: /],
    ['a duplicate key', fixture('invalid-duplicate-key.yaml'), /^line 7, column 5: map keys must be unique; "domains" is repeated$/],
    ['two documents in one file', `${HEAD}partners: []\n---\n${HEAD}partners: []\n`, /^line 4, column 1: /],
    ['a tab used for indentation', 'version: "1"\nregion: GB\npartners:\n\t- {}\n', /^line 4, column 1: /],
  ])('YAML with %s, naming the line and column', (_title, text, pattern) => {
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(pattern);
  });

  it('a document whose aliases expand without bound', () => {
    const bomb = ['version: "1"', 'region: GB', 'a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]', 'partners: []', ''].join('\n');
    expect(problemsOf(bomb)[0]).toMatch(/^\(root\): cannot be read: its aliases expand \d+ written values to [\d,]+; at most [\d,]+ are read/);
  });

  it('a key given twice, quoted or not, naming it', () => {
    expect(problemsOf(`${HEAD}partners:\n  - {"id": a, 'id': b}\n`)).toEqual(['line 4, column 16: map keys must be unique; "\'id\'" is repeated']);
    expect(problemsOf(`${HEAD}region: FR\npartners: []\n`)).toEqual(['line 3, column 1: map keys must be unique; "region" is repeated']);
  });

  it('an alias that names the node containing it', () => {
    expect(problemsOf(`${HEAD}partners: &p\n  - *p\n`)).toEqual(['line 4, column 6: this alias names the node that contains it; a registry cannot be circular']);
  });

  it('an alias to an anchor never defined, naming its place', () => {
    expect(problemsOf(`${HEAD}partners: *nowhere\n`)[0]).toMatch(/^line 3, column \d+: .*nowhere/);
  });
});

describe('parseRegistry reads YAML aliases', () => {
  it('as copies of what they name, within the bound', () => {
    const text = `${HEAD}partners:\n  - {id: a, name: A, domains: [a.example], identifiers: &ids [x-msisdn, url]}\n` +
      '  - {id: b, name: B, domains: [b.example], identifiers: *ids}\n';
    expect(parseRegistry(text, 'r').partners.map((p) => p.identifiers)).toEqual([['x-msisdn', 'url'], ['x-msisdn', 'url']]);
  });
});

describe('parseRegistry reports every problem at once', () => {
  it('names each problem of a registry with many mistakes by its path', () => {
    expect(problemsOf(fixture('invalid-many.yaml'))).toEqual([
      'colour: unknown key; allowed keys are version, region, identity_headers, partners',
      'version: expected the version as a string, got the number 2012.1 (put it in quotes)',
      'region: expected an ISO 3166-1 alpha-2 country code such as "GB", got the string "GBR"',
      'identity_headers[0]: "x o2 subscriber": not a header name (letters, digits and !#$%&\'*+-.^_`|~ only)',
      'identity_headers[1]: "host": the Host header is never scanned, so it cannot carry a disclosure',
      'partners[0].id: "AgeVerify": not a partner id (lower-case letters, digits, "-" and "_", starting and ending with a letter or digit, at most 64 characters)',
      'partners[0].domains[0]: "*.": not a domain pattern',
      'partners[0].domains[1]: "badexample.com:8080": not a domain pattern (a pattern has no port)',
      'partners[1].domain: unknown key; allowed keys are id, name, purposes, domains, identifiers, valid_from, valid_to (did you mean "domains"?)',
      'partners[1].domains: required: the domain patterns the partner receives identifiers on, e.g. ["*.ageverify.example"]',
      'partners[1].identifiers: must list at least one of identifiers (header names, "url" or "referer")',
      'partners[2].identifiers[0]: "header:x-msisdn": write the header name alone, as in "x-msisdn"',
      'partners[2].valid_from: "2012-01-15": not an ISO-8601 time with a zone; write it as "2012-01-25T14:00:00Z" or "2012-01-25T14:00:00+00:00"',
      'partners[3].domains[0]: "*.co.uk": a wildcard over the public suffix "co.uk" would match every site under it; name the partner\'s own domain',
      'partners[3].domains[1]: "a.*.example": not a domain pattern ("*" is allowed only as the whole first label, as in "*.example.com")',
      'partners[3].valid_to: "2012-01-01T00:00:00Z" must be after valid_from "2012-02-01T00:00:00Z" (valid_to is exclusive)',
      'partners[3].name: "Ringtones 4 U Ltd" differs from "Ringtones4U Ltd" given for partner "ringtones" at partners[2]; entries with one id are periods of the same partner',
    ]);
  });

  it('says how many problems there are and where the registry came from', () => {
    let caught: unknown;
    try { parseRegistry(fixture('invalid-many.yaml'), 'registry/o2.yaml'); } catch (err) { caught = err; }
    expect(caught).toBeInstanceOf(LeakscopeError);
    expect((caught as LeakscopeError).message).toBe('registry registry/o2.yaml is invalid: 17 problems');
  });

  it('says "1 problem" in the singular', () => {
    expect(() => parseRegistry('version: "1"\npartners: []\n', 'r.yaml')).toThrow('registry r.yaml is invalid: 1 problem');
  });
});
