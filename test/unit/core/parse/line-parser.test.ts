import { describe, expect, it } from 'vitest';
import { createLineParser, detectFormat } from '../../../../services/core/parse/index.js';

describe('detectFormat', () => {
  it.each([
    ['an NDJSON record', '{"ts":"2012-01-10T09:31:02.123Z","url":"http://www.example.com/"}', 'ndjson'],
    ['a W3C version directive', '#Version: 1.0', 'w3c'],
    ['a W3C fields directive', '#Fields: date time cs-host', 'w3c'],
    ['a record after a byte-order mark', '\uFEFF{"ts":0}', 'ndjson'],
    ['a directive after leading spaces', '  #Version: 1.0', 'w3c'],
    ['a W3C data line without directives', '2012-01-10 09:31:02 gw-lon-01', null],
    ['an Apache common log line', '10.12.0.5 - - [10/Jan/2012:09:31:02 +0000] "GET / HTTP/1.1" 200 5120', null],
    ['a JSON array', '[{"ts":0}]', null],
    ['an empty line', '', null],
  ])('tells %s', (_title, line, format) => {
    expect(detectFormat(line)).toBe(format);
  });
});

describe('createLineParser', () => {
  it('parses NDJSON lines', () => {
    const parser = createLineParser('ndjson');
    expect(parser.parseLine('{"ts":1326187862123,"host":"www.example.com"}')).toMatchObject({ ok: true, request: { host: 'www.example.com' } });
  });

  it('parses W3C lines with the #Fields directive it has seen', () => {
    const parser = createLineParser('w3c');
    expect(parser.parseLine('#Fields: date time cs-host')).toEqual({ ok: 'skip' });
    expect(parser.parseLine('2012-01-10 09:31:02 www.example.com')).toMatchObject({ ok: true, request: { host: 'www.example.com' } });
  });

  it('gives each W3C stream its own parser state', () => {
    const a = createLineParser('w3c');
    a.parseLine('#Fields: date time cs-host');
    expect(createLineParser('w3c').parseLine('2012-01-10 09:31:02 www.example.com')).toEqual({
      ok: false,
      reason: 'data line before any #Fields directive',
    });
  });
});
