import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createW3cParser } from '../../../../services/core/parse/index.js';
import type { GatewayRequest, ParseResult } from '../../../../services/core/types.js';

// The example of the README's "Log formats": an O2-like gateway in January 2012.
const FIELDS =
  '#Fields: date time x-gateway-id x-request-id x-msisdn x-bearer c-ip cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query sc-status sc-bytes cs(User-Agent) cs(Referer) sr(X-MSISDN)';
const LINE =
  '2012-01-10 09:31:02.123 gw-lon-01 gw-lon-01:123 447700900123 3g 10.12.0.5 GET http www.example.com 80 /news id=1 200 5120 "Mozilla/5.0 (Linux)" - 447700900123';

function request(result: ParseResult): GatewayRequest {
  if (result.ok !== true) throw new Error(`expected a request, got ${JSON.stringify(result)}`);
  return result.request;
}

/** Parses `lines` with one parser and returns the result of the last. */
function parseLast(...lines: string[]): ParseResult {
  const parser = createW3cParser();
  let last: ParseResult = { ok: 'skip' };
  for (const l of lines) last = parser.parseLine(l);
  return last;
}

function reason(result: ParseResult): string {
  if (result.ok !== false) throw new Error(`expected a reject, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('createW3cParser', () => {
  it('reads every field of the W3C example in the README', () => {
    expect(request(parseLast('#Version: 1.0', FIELDS, LINE))).toEqual({
      ts: Date.UTC(2012, 0, 10, 9, 31, 2, 123),
      requestKey: 'gw-lon-01:gw-lon-01:123',
      gatewayId: 'gw-lon-01',
      requestId: 'gw-lon-01:123',
      msisdn: '447700900123',
      bearer: '3g',
      clientIp: '10.12.0.5',
      method: 'GET',
      scheme: 'http',
      host: 'www.example.com',
      port: 80,
      path: '/news',
      query: 'id=1',
      headers: [
        ['user-agent', 'Mozilla/5.0 (Linux)'],
        ['x-msisdn', '447700900123'],
      ],
      status: 200,
      bytes: 5120,
    } satisfies GatewayRequest);
  });

  it.each([
    ['#Version: 1.0'],
    ['#Software: gateway 4.2'],
    ['#Date: 2012-01-10 00:00:00'],
    ['# a comment'],
    ['#Remark: rotated'],
    [''],
    ['   '],
    ['\r'],
  ])('skips the line %j', (text) => {
    expect(parseLast(FIELDS, text)).toEqual({ ok: 'skip' });
  });

  it('skips a #Fields directive', () => {
    expect(createW3cParser().parseLine(FIELDS)).toEqual({ ok: 'skip' });
  });

  it('rejects a data line before any #Fields directive', () => {
    expect(reason(parseLast('#Version: 1.0', LINE))).toBe('data line before any #Fields directive');
  });

  it('rejects a #Fields directive that declares nothing, and the data lines written for it, until the next good one', () => {
    const parser = createW3cParser();
    parser.parseLine(FIELDS);
    expect(reason(parser.parseLine('#Fields:   '))).toBe('#Fields: declares no fields');
    expect(reason(parser.parseLine(LINE))).toBe('data line after a refused #Fields directive');
    parser.parseLine(FIELDS);
    expect(parser.parseLine(LINE).ok).toBe(true);
  });

  it('applies a #Fields directive declared again mid-file from there on', () => {
    const parser = createW3cParser();
    parser.parseLine(FIELDS);
    expect(request(parser.parseLine(LINE)).host).toBe('www.example.com');
    parser.parseLine('#Fields: date time cs-uri x-msisdn');
    const r = request(parser.parseLine('2012-01-25 13:59:58 http://m.example.org:8080/a?b=c 447700900124'));
    expect([r.ts, r.host, r.port, r.path, r.query, r.msisdn, r.gatewayId]).toEqual([
      Date.UTC(2012, 0, 25, 13, 59, 58), 'm.example.org', 8080, '/a', 'b=c', '447700900124', null,
    ]);
    expect(reason(parser.parseLine(LINE))).toBe('18 values for the 4 fields declared by #Fields');
  });

  it('reads field identifiers case-insensitively', () => {
    const r = request(parseLast('#FIELDS: Date Time CS-Host CS(X-Foo)', '2012-01-10 09:31:02 www.example.com bar'));
    expect([r.host, r.headers]).toEqual(['www.example.com', [['x-foo', 'bar']]]);
  });

  it.each([
    ['whole seconds', '09:31:02', Date.UTC(2012, 0, 10, 9, 31, 2)],
    ['milliseconds', '09:31:02.123', Date.UTC(2012, 0, 10, 9, 31, 2, 123)],
    ['one fraction digit', '09:31:02.5', Date.UTC(2012, 0, 10, 9, 31, 2, 500)],
    ['microseconds, truncated', '09:31:02.123456', Date.UTC(2012, 0, 10, 9, 31, 2, 123)],
    ['an empty fraction, as the W3C grammar allows', '09:31:02.', Date.UTC(2012, 0, 10, 9, 31, 2)],
    ['no seconds', '09:31', Date.UTC(2012, 0, 10, 9, 31)],
  ])('reads a time with %s as UTC', (_title, time, ts) => {
    expect(request(parseLast('#Fields: date time cs-host', `2012-01-10 ${time} a.example`)).ts).toBe(ts);
  });

  it.each([
    ['a month 13', '2012-13-10 09:31:02', 'date: "2012-13-10" is not a date YYYY-MM-DD'],
    ['30 February', '2012-02-30 09:31:02', 'date: "2012-02-30" is not a date YYYY-MM-DD'],
    ['a date with slashes', '10/01/2012 09:31:02', 'date: "10/01/2012" is not a date YYYY-MM-DD'],
    ['a short year', '12-01-10 09:31:02', 'date: "12-01-10" is not a date YYYY-MM-DD'],
    ['hour 25', '2012-01-10 25:31:02', 'time: "25:31:02" is not hh:mm[:ss[.fraction]]'],
    ['a zone on the time', '2012-01-10 09:31:02Z', 'time: "09:31:02Z" is not hh:mm[:ss[.fraction]]'],
    ['an absent date', '- 09:31:02', 'date: absent (-)'],
    ['an absent time', '2012-01-10 -', 'time: absent (-)'],
  ])('rejects %s', (_title, dateTime, why) => {
    expect(reason(parseLast('#Fields: date time cs-host', `${dateTime} a.example`))).toBe(why);
  });

  it('rejects data lines when #Fields declares no time', () => {
    expect(reason(parseLast('#Fields: date cs-host', '2012-01-10 a.example'))).toBe(
      '#Fields declares no time field, so the request has no time',
    );
  });

  it.each([
    ['too few values', '2012-01-10 09:31:02', '2 values for the 3 fields declared by #Fields'],
    ['too many values', '2012-01-10 09:31:02 a.example extra', '4 values for the 3 fields declared by #Fields'],
    ['an unterminated quote', '2012-01-10 09:31:02 "a.example', 'unterminated quoted value in field 3 (cs-host)'],
    ['an unterminated quote after a doubled one', '2012-01-10 09:31:02 "a""', 'unterminated quoted value in field 3 (cs-host)'],
    [
      'text straight after a closing quote',
      '2012-01-10 09:31:02 "a.example"x',
      'unexpected character after the closing quote of field 3 (cs-host) at column 32',
    ],
  ])('rejects a line with %s', (_title, text, why) => {
    expect(reason(parseLast('#Fields: date time cs-host', text))).toBe(why);
  });

  it.each([
    ['a plain value', 'abc', 'abc'],
    ['a quoted value with spaces', '"Mozilla/5.0 (Linux; U; Android 2.3.4)"', 'Mozilla/5.0 (Linux; U; Android 2.3.4)'],
    ['doubled quotes', '"say ""hi"" now"', 'say "hi" now'],
    ['only a doubled quote', '""""', '"'],
    ['an empty quoted value', '""', ''],
    ['a quoted dash, which is a dash and not absent', '"-"', '-'],
    ['a quote inside an unquoted value', 'a"b', 'a"b'],
    ['a tab inside quotes', '"a\tb"', 'a\tb'],
    ['composite Elisa network info', 'GPRS,,358505476123,unsecured', 'GPRS,,358505476123,unsecured'],
  ])('reads a header field holding %s', (_title, field, value) => {
    const r = request(parseLast('#Fields: date time cs-host cs(X-Network-Info)', `2012-01-10 09:31:02 a.example ${field}`));
    expect(r.headers).toEqual([['x-network-info', value]]);
  });

  it('reads values separated by runs of spaces and tabs, and a line ending in CRLF', () => {
    const r = request(parseLast('#Fields: date time cs-host cs(X-A)\r\n', '2012-01-10\t09:31:02  a.example \t"v w"  \r\n'));
    expect([r.host, r.headers]).toEqual(['a.example', [['x-a', 'v w']]]);
  });

  it('hashes the line without its CRLF when there are no ids', () => {
    const text = '2012-01-10 09:31:02 a.example';
    const expected = 'h:' + createHash('sha256').update(text).digest('hex').slice(0, 32);
    expect(request(parseLast('#Fields: date time cs-host', text + '\r\n')).requestKey).toBe(expected);
  });

  it.each([
    ['a client header with no upstream one', 'cs(X-A) sr(X-B)', 'a -', [['x-a', 'a']]],
    ['an upstream header the client did not send', 'cs(X-A) sr(X-B)', 'a b', [['x-a', 'a'], ['x-b', 'b']]],
    ['an upstream header replacing the client one', 'cs(X-MSISDN) sr(X-MSISDN)', 'spoofed 447700900123', [['x-msisdn', '447700900123']]],
    ['names compared case-insensitively', 'cs(x-msisdn) sr(X-MSISDN)', 'spoofed 447700900123', [['x-msisdn', '447700900123']]],
    ['an absent upstream value, which keeps the client one', 'cs(X-A) sr(X-A)', 'a -', [['x-a', 'a']]],
    ['the replacement at the place of the first client header', 'cs(X-A) cs(X-B) cs(X-A) sr(X-A)', '1 2 3 up', [['x-a', 'up'], ['x-b', '2']]],
    ['two upstream values of one name', 'cs(X-A) sr(X-A) sr(X-A)', '1 u1 u2', [['x-a', 'u1'], ['x-a', 'u2']]],
    ['two client values of one name', 'cs(Cookie) cs(Cookie)', 'a=1 b=2', [['cookie', 'a=1'], ['cookie', 'b=2']]],
    ['response headers, which were not sent upstream', 'sc(Content-Type) rs(X-A) cs(X-B)', 'text/html x b', [['x-b', 'b']]],
  ])('overlays %s', (_title, fields, values, headers) => {
    const r = request(parseLast(`#Fields: date time cs-host ${fields}`, `2012-01-10 09:31:02 a.example ${values}`));
    expect(r.headers).toEqual(headers);
  });

  it('keeps the O2 leak header sent upstream by the gateway', () => {
    const r = request(
      parseLast(
        '#Fields: date time x-msisdn cs-host cs(User-Agent) sr(X-UP-Calling-Line-ID)',
        '2012-01-20 18:02:11 447700900123 www.example.com "Mozilla/5.0 (iPhone; CPU iPhone OS 5_0_1 like Mac OS X)" 447700900123',
      ),
    );
    expect(r.headers).toContainEqual(['x-up-calling-line-id', '447700900123']);
  });

  it('rejects a header field with no name', () => {
    expect(reason(parseLast('#Fields: date time cs()'))).toBe('#Fields: cs(): no header name between the parentheses');
  });

  it.each([
    ['cs-uri alone', 'cs-uri', 'http://www.example.com:8080/a/b?c=d', ['http', 'www.example.com', 8080, '/a/b', 'c=d']],
    ['cs-uri-stem as the path', 'cs-host cs-uri-stem cs-uri-query', 'www.example.com /a ?x=1', [null, 'www.example.com', null, '/a', 'x=1']],
    ['a stem carrying its query', 'cs-host cs-uri-stem', 'www.example.com /a?x=1', [null, 'www.example.com', null, '/a', 'x=1']],
    ['a host with a port', 'cs-host', 'www.example.com:8080', [null, 'www.example.com', 8080, '', '']],
    ['an IPv6 host with a port', 'cs-host', '[2001:db8::1]:8080', [null, '[2001:db8::1]', 8080, '', '']],
    ['cs-uri-port overriding the port of cs-host', 'cs-host cs-uri-port', 'a.example:81 82', [null, 'a.example', 82, '', '']],
    ['cs-host and path overriding cs-uri', 'cs-uri cs-host cs-uri-path', 'http://a.example/x?q=1 b.example /y', ['http', 'b.example', null, '/y', 'q=1']],
    ['an origin-form cs-uri with cs-host', 'cs-uri cs-host', '/p?q=1 a.example', [null, 'a.example', null, '/p', 'q=1']],
    ['the Host header when no field gives a host', 'cs-uri-path cs(Host)', '/p www.example.com', [null, 'www.example.com', null, '/p', '']],
    ['an absent query and port', 'cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query', 'HTTP a.example - /p -', ['http', 'a.example', null, '/p', '']],
  ])('reads the target from %s', (_title, fields, values, [scheme, host, port, path, query]) => {
    const r = request(parseLast(`#Fields: date time ${fields}`, `2012-01-10 09:31:02 ${values}`));
    expect([r.scheme, r.host, r.port, r.path, r.query]).toEqual([scheme, host, port, path, query]);
  });

  it.each([
    ['no host anywhere', 'cs-uri-path', '/p', 'missing host: no cs-host, no host in cs-uri and no Host header'],
    ['a port that is not a number', 'cs-host cs-uri-port', 'a.example http', 'cs-uri-port: port "http" is not a number 0-65535'],
    ['a host port out of range', 'cs-host', 'a.example:99999', 'cs-host: port "99999" is not a number 0-65535'],
    ['an unterminated IPv6 host', 'cs-host', '[::1', 'cs-host: unterminated IPv6 literal in "[::1"'],
    ['a cs-uri without a host', 'cs-uri', 'http:///x', 'cs-uri: no host in ""'],
    ['a status that is not a number', 'cs-host sc-status', 'a.example OK', 'sc-status: "OK" is not a non-negative integer'],
    ['bytes that are negative', 'cs-host sc-bytes', 'a.example -5', 'sc-bytes: "-5" is not a non-negative integer'],
  ])('rejects a line with %s', (_title, fields, values, why) => {
    expect(reason(parseLast(`#Fields: date time ${fields}`, `2012-01-10 09:31:02 ${values}`))).toBe(why);
  });

  it('reads absent values as null and ignores fields it does not know', () => {
    const r = request(
      parseLast(
        '#Fields: date time x-gateway-id x-request-id x-msisdn x-bearer c-ip cs-method cs-host sc-status sc-bytes time-taken s-ip',
        '2012-01-10 09:31:02 - - - - - - a.example - - 0.012 10.0.0.1',
      ),
    );
    expect([r.gatewayId, r.requestId, r.msisdn, r.bearer, r.clientIp, r.method, r.status, r.bytes]).toEqual([
      null, null, null, null, null, null, null, null,
    ]);
    expect(r.requestKey).toMatch(/^h:[0-9a-f]{32}$/);
  });

  it('keeps separate state per parser', () => {
    const a = createW3cParser();
    const b = createW3cParser();
    a.parseLine(FIELDS);
    expect(a.parseLine(LINE).ok).toBe(true);
    expect(reason(b.parseLine(LINE))).toBe('data line before any #Fields directive');
  });
});
