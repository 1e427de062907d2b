// Lines a hostile or careless log writer produces (issue 7, items 4, 5 and 10): each is a
// reject with its reason, never a request with a silently chosen value.
import { describe, expect, it } from 'vitest';
import { createW3cParser, parseNdjsonLine } from '../../../../services/core/parse/index.js';
import type { ParseResult } from '../../../../services/core/types.js';

function reason(result: ParseResult): string {
  if (result.ok !== false) throw new Error(`expected a reject, got ${JSON.stringify(result)}`);
  return result.reason;
}

const ndjson = (over: Record<string, unknown>): string => JSON.stringify({
  ts: '2012-01-10T09:31:02.123Z', msisdn: '447700900123', url: 'http://www.example.com/', headers: { 'X-MSISDN': '447700900123' }, ...over,
});

describe('W3C: a #Fields line naming a field twice is refused', () => {
  it.each([
    ['date date', '#Fields: date date time cs-host', /date is named twice/],
    ['cs-host twice', '#Fields: date time cs-host cs-uri-path cs-host', /cs-host is named twice/],
    ['the same field in two spellings', '#Fields: date time cs-host cs-uri-path cs-uri-stem', /cs-uri-path and cs-uri-stem name the same field/],
    ['a field twice in two cases', '#Fields: date time CS-HOST cs-uri-path cs-host', /cs-host is named twice/],
  ])('%s: refused, and its lines rejected until the next good #Fields', (_title, fields, why) => {
    const parser = createW3cParser();
    expect(reason(parser.parseLine(fields))).toMatch(why);
    expect(reason(parser.parseLine('2012-01-10 09:31:02 2012-01-11 www.example.com a b'))).toBe('data line after a refused #Fields directive');
    parser.parseLine('#Fields: date time cs-host');
    expect(parser.parseLine('2012-01-10 09:31:02 www.example.com').ok).toBe(true);
  });

  it('accepts a header field repeated (several values of one header) and an unknown field repeated (ignored)', () => {
    const parser = createW3cParser();
    expect(parser.parseLine('#Fields: date time cs-host cs(Cookie) cs(cookie) sr(Cookie) x-foo x-foo')).toEqual({ ok: 'skip' });
  });

  it('refuses a header field whose name is not an HTTP token', () => {
    expect(reason(createW3cParser().parseLine('#Fields: date time cs-host cs(X\u001b[31mA)'))).toMatch(/not an HTTP token/);
  });
});

describe('hosts that are not host names make the line a reject', () => {
  it.each(['-', '_', '--1', 'a.-', '-a.example', 'a-.example'])('NDJSON host %j', (host) => {
    expect(reason(parseNdjsonLine(ndjson({ url: `http://${host}/x` })))).toMatch(/is not a host name/);
    expect(reason(parseNdjsonLine(ndjson({ url: undefined, host })))).toMatch(/is not a host name/);
  });

  it.each(['"-"', '_', '--1', 'a.-'])('W3C cs-host %s', (host) => {
    const parser = createW3cParser();
    parser.parseLine('#Fields: date time cs-host cs-uri-path');
    expect(reason(parser.parseLine(`2012-01-10 09:31:02 ${host} /x`))).toMatch(/cs-host: .* is not a host name/);
  });
});

describe('header names that are not HTTP tokens make the line a reject', () => {
  it.each([
    ['ESC', 'X-\u001b]0;owned\u0007'],
    ['NUL', 'X-A\u0000'],
    ['CR', 'X-A\rX-B'],
    ['U+202E', 'X-\u202eDISMX'],
    ['a space', 'X MSISDN'],
    ['a colon', 'X-A:'],
  ])('%s in an NDJSON header name', (_title, name) => {
    expect(reason(parseNdjsonLine(ndjson({ headers: { [name]: '447700900123' } })))).toMatch(/is not a header name \(an HTTP token\)/);
  });

  it('keeps header values with control characters as data (outputs neutralise them)', () => {
    const result = parseNdjsonLine(ndjson({ headers: { 'User-Agent': 'a\u001b[2Jb\u202e' } }));
    expect(result.ok).toBe(true);
  });
});
