import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseNdjsonLine } from '../../../../services/core/parse/index.js';
import type { GatewayRequest, ParseResult } from '../../../../services/core/types.js';

// A request from O2 UK's January 2012 leak, as the gateway would log it.
const O2_LINE = JSON.stringify({
  ts: '2012-01-10T09:31:02.123Z',
  gateway_id: 'gw-lon-01',
  request_id: '123',
  msisdn: '447700900123',
  bearer: '3g',
  client_ip: '10.12.0.5',
  method: 'GET',
  url: 'http://www.example.com/news?id=1',
  headers: {
    Host: 'www.example.com',
    'User-Agent': 'Mozilla/5.0 (Linux; U; Android 2.3.4; en-gb; HTC Desire) AppleWebKit/533.1',
    'X-UP-Calling-Line-ID': '447700900123',
    Accept: ['text/html', 'application/xhtml+xml'],
  },
  status: 200,
  bytes: 5120,
});

function request(result: ParseResult): GatewayRequest {
  if (result.ok !== true) throw new Error(`expected a request, got ${JSON.stringify(result)}`);
  return result.request;
}

function line(fields: Record<string, unknown>): string {
  return JSON.stringify({ ts: '2012-01-10T09:31:02Z', url: 'http://www.example.com/', ...fields });
}

describe('parseNdjsonLine', () => {
  it('reads every field of a full gateway record', () => {
    expect(request(parseNdjsonLine(O2_LINE))).toEqual({
      ts: Date.UTC(2012, 0, 10, 9, 31, 2, 123),
      requestKey: 'gw-lon-01:123',
      gatewayId: 'gw-lon-01',
      requestId: '123',
      msisdn: '447700900123',
      bearer: '3g',
      clientIp: '10.12.0.5',
      method: 'GET',
      scheme: 'http',
      host: 'www.example.com',
      port: null,
      path: '/news',
      query: 'id=1',
      headers: [
        ['host', 'www.example.com'],
        ['user-agent', 'Mozilla/5.0 (Linux; U; Android 2.3.4; en-gb; HTC Desire) AppleWebKit/533.1'],
        ['x-up-calling-line-id', '447700900123'],
        ['accept', 'text/html'],
        ['accept', 'application/xhtml+xml'],
      ],
      status: 200,
      bytes: 5120,
    } satisfies GatewayRequest);
  });

  it.each([
    ['a UTC instant with milliseconds', '2012-01-10T09:31:02.123Z', Date.UTC(2012, 0, 10, 9, 31, 2, 123)],
    ['a lower-case z and t', '2012-01-10t09:31:02z', Date.UTC(2012, 0, 10, 9, 31, 2)],
    ['a positive offset with a colon', '2012-01-10T10:31:02+01:00', Date.UTC(2012, 0, 10, 9, 31, 2)],
    ['a negative offset without a colon', '2012-01-10T04:31:02-0500', Date.UTC(2012, 0, 10, 9, 31, 2)],
    ['an offset of hours only', '2012-01-10T11:31:02+02', Date.UTC(2012, 0, 10, 9, 31, 2)],
    ['a space between date and time', '2012-01-10 09:31:02Z', Date.UTC(2012, 0, 10, 9, 31, 2)],
    ['no seconds', '2012-01-10T09:31Z', Date.UTC(2012, 0, 10, 9, 31)],
    ['microseconds, truncated to milliseconds', '2012-01-10T09:31:02.123999Z', Date.UTC(2012, 0, 10, 9, 31, 2, 123)],
    ['one fraction digit', '2012-01-10T09:31:02.5Z', Date.UTC(2012, 0, 10, 9, 31, 2, 500)],
    ['a decimal comma', '2012-01-10T09:31:02,25Z', Date.UTC(2012, 0, 10, 9, 31, 2, 250)],
    ['29 February of a leap year', '2012-02-29T00:00:00Z', Date.UTC(2012, 1, 29)],
    ['the leap second of 30 June 2012', '2012-06-30T23:59:60Z', Date.UTC(2012, 6, 1)],
    ['epoch milliseconds as a number', 1326187862123, 1326187862123],
    ['epoch milliseconds as a string of digits', '1326187862123', 1326187862123],
  ])('reads ts given as %s', (_title, ts, expected) => {
    expect(request(parseNdjsonLine(line({ ts }))).ts).toBe(expected);
  });

  it.each([
    ['an ISO date-time without a zone', '2012-01-10T09:31:02'],
    ['a date alone', '2012-01-10'],
    ['a month 13', '2012-13-10T09:31:02Z'],
    ['30 February', '2012-02-30T09:31:02Z'],
    ['29 February of a common year', '2011-02-29T09:31:02Z'],
    ['hour 24', '2012-01-10T24:00:00Z'],
    ['an offset of 24 hours', '2012-01-10T09:31:02+24:00'],
    ['trailing text', '2012-01-10T09:31:02Z junk'],
    ['a fraction with no digits', '2012-01-10T09:31:02.Z'],
    ['basic format', '20120110T093102Z'],
    ['an RFC 2822 date', 'Tue, 10 Jan 2012 09:31:02 GMT'],
    ['a fractional number', 1326187862123.5],
    ['seconds that are not a number', '2012-01-10T09:31:xxZ'],
    ['an empty string', ''],
    ['a boolean', true],
    ['an object', { ms: 1 }],
  ])('rejects ts given as %s', (_title, ts) => {
    expect(parseNdjsonLine(line({ ts }))).toEqual({ ok: false, reason: 'ts: not ISO-8601 with a zone or epoch milliseconds' });
  });

  it('rejects a record without ts', () => {
    expect(parseNdjsonLine('{"url":"http://a.example/"}')).toEqual({ ok: false, reason: 'ts: missing' });
  });

  it.each([
    ['an absolute URL', 'http://www.example.com/news?id=1', ['http', 'www.example.com', null, '/news', 'id=1']],
    ['a URL with a port', 'http://www.example.com:8080/a', ['http', 'www.example.com', 8080, '/a', '']],
    ['a URL with no path', 'http://www.example.com', ['http', 'www.example.com', null, '', '']],
    ['a URL with a query and no path', 'http://www.example.com?x=1', ['http', 'www.example.com', null, '', 'x=1']],
    ['a URL with a fragment', 'http://www.example.com/a?b=1#top', ['http', 'www.example.com', null, '/a', 'b=1']],
    ['an upper-case scheme', 'HTTP://WWW.Example.COM/', ['http', 'WWW.Example.COM', null, '/', '']],
    ['userinfo', 'http://user:pw@www.example.com:81/', ['http', 'www.example.com', 81, '/', '']],
    ['an IPv6 literal with a port', 'http://[2001:db8::1]:8080/x', ['http', '[2001:db8::1]', 8080, '/x', '']],
    ['an IPv6 literal without a port', 'http://[::1]/', ['http', '[::1]', null, '/', '']],
    ['an IPv4 literal', 'http://10.0.0.1:80/', ['http', '10.0.0.1', 80, '/', '']],
    ['an authority-form CONNECT target', 'www.example.com:443', [null, 'www.example.com', 443, '', '']],
    ['a scheme-relative URL', '//www.example.com/a', [null, 'www.example.com', null, '/a', '']],
    ['a query holding a number and a ? ', 'http://a.example/p?msisdn=447700900123&q=?', ['http', 'a.example', null, '/p', 'msisdn=447700900123&q=?']],
  ])('splits url given as %s', (_title, url, [scheme, host, port, path, query]) => {
    const r = request(parseNdjsonLine(line({ url })));
    expect([r.scheme, r.host, r.port, r.path, r.query]).toEqual([scheme, host, port, path, query]);
  });

  it.each([
    ['host only', { host: 'www.example.com' }, [null, 'www.example.com', null, '', '']],
    ['host with a port', { host: 'www.example.com:8080' }, [null, 'www.example.com', 8080, '', '']],
    ['an IPv6 host with a port', { host: '[::1]:8080' }, [null, '[::1]', 8080, '', '']],
    ['a bare IPv6 host', { host: '2001:db8::1' }, [null, '2001:db8::1', null, '', '']],
    [
      'every part separately',
      { scheme: 'HTTP', host: 'www.example.com', port: 80, path: '/news', query: 'id=1' },
      ['http', 'www.example.com', 80, '/news', 'id=1'],
    ],
    ['a port as a string', { host: 'a.example', port: '8080' }, [null, 'a.example', 8080, '', '']],
    ['a port field overriding the host port', { host: 'a.example:81', port: 82 }, [null, 'a.example', 82, '', '']],
    ['a path carrying its query', { host: 'a.example', path: '/p?x=1' }, [null, 'a.example', null, '/p', 'x=1']],
    ['a query with its leading ?', { host: 'a.example', path: '/p', query: '?x=1' }, [null, 'a.example', null, '/p', 'x=1']],
  ])('reads the target from %s', (_title, fields, [scheme, host, port, path, query]) => {
    const r = request(parseNdjsonLine(JSON.stringify({ ts: 1326187862123, ...fields })));
    expect([r.scheme, r.host, r.port, r.path, r.query]).toEqual([scheme, host, port, path, query]);
  });

  it.each([
    ['from the host field', { url: '/news?id=1', host: 'www.example.com' }],
    ['from the Host header', { url: '/news?id=1', headers: { Host: 'www.example.com' } }],
  ])('takes the host of an origin-form url %s', (_title, fields) => {
    const r = request(parseNdjsonLine(JSON.stringify({ ts: 1326187862123, ...fields })));
    expect([r.host, r.path, r.query]).toEqual(['www.example.com', '/news', 'id=1']);
  });

  it.each([
    ['no url and no host', { ts: 1326187862123 }, 'missing url or host'],
    ['a host that is not a host name', { ts: 1326187862123, url: 'http://evil.com%2ewww.ageverify.example/' }, 'url: "evil.com%2ewww.ageverify.example" is not a host name'],
    ['epoch seconds for milliseconds', { ts: 1326187862, url: 'http://a.example/' }, 'ts: epoch value before 1973: epoch milliseconds expected (is it in seconds?)'],
    ['an empty url and no host', { ts: 1326187862123, url: '' }, 'missing url or host'],
    ['a url that is a number', { ts: 1326187862123, url: 5 }, 'url: not a string (got a number)'],
    ['an origin-form url with no host anywhere', { ts: 1326187862123, url: '/news' }, 'url: a path without a host, and no host field or Host header'],
    ['a url port out of range', { ts: 1326187862123, url: 'http://a.example:70000/' }, 'url: port "70000" is not a number 0-65535'],
    ['a url port that is not a number', { ts: 1326187862123, url: 'http://a.example:http/' }, 'url: port "http" is not a number 0-65535'],
    ['an unterminated IPv6 literal', { ts: 1326187862123, url: 'http://[::1/' }, 'url: unterminated IPv6 literal in "[::1"'],
    ['text after an IPv6 literal', { ts: 1326187862123, host: '[::1]x' }, 'host: unexpected "x" after IPv6 literal'],
    ['a url with no host', { ts: 1326187862123, url: 'http:///path' }, 'url: no host in ""'],
    ['a host that is only a port', { ts: 1326187862123, host: ':80' }, 'host: no host in ":80"'],
    ['a port field out of range', { ts: 1326187862123, host: 'a.example', port: 65536 }, 'port: not a number 0-65535'],
    ['a port field that is a boolean', { ts: 1326187862123, host: 'a.example', port: true }, 'port: not a number 0-65535 (got a boolean)'],
  ])('rejects a record with %s', (_title, fields, reason) => {
    expect(parseNdjsonLine(JSON.stringify(fields))).toEqual({ ok: false, reason });
  });

  it('lower-cases header names, keeps values as logged and repeats a multi-valued header', () => {
    const r = request(parseNdjsonLine(line({ headers: { 'X-MSISDN': '+44 7700 900123', Cookie: ['a=1', 'b=2'], 'x-msisdn': '0' } })));
    expect(r.headers).toEqual([
      ['x-msisdn', '+44 7700 900123'],
      ['cookie', 'a=1'],
      ['cookie', 'b=2'],
      ['x-msisdn', '0'],
    ]);
  });

  it.each([
    ['absent', {}],
    ['null', { headers: null }],
    ['empty', { headers: {} }],
    ['holding a null value and an empty array', { headers: { 'X-Foo': null, 'X-Bar': [] } }],
  ])('reads headers %s as no headers', (_title, fields) => {
    expect(request(parseNdjsonLine(line(fields))).headers).toEqual([]);
  });

  it.each([
    ['a number', { 'X-Foo': 5 }, 'headers.X-Foo: not a string or array of strings (got a number)'],
    ['an object', { 'X-Foo': { a: 1 } }, 'headers.X-Foo: not a string or array of strings (got an object)'],
    ['an array holding a number', { 'X-Foo': ['a', 1] }, 'headers.X-Foo[1]: not a string (got a number)'],
  ])('rejects a header value that is %s', (_title, headers, reason) => {
    expect(parseNdjsonLine(line({ headers }))).toEqual({ ok: false, reason });
  });

  it.each([
    ['an array', ['Host', 'a']],
    ['a string', 'Host: a'],
  ])('rejects headers given as %s', (_title, headers) => {
    expect(parseNdjsonLine(line({ headers }))).toMatchObject({ ok: false, reason: expect.stringMatching(/^headers: not an object/) });
  });

  it.each([
    ['absent', {}, null],
    ['null', { msisdn: null }, null],
    ['empty', { msisdn: '' }, null],
    ['a string', { msisdn: '447700900123' }, '447700900123'],
    ['a number', { msisdn: 447700900123 }, '447700900123'],
  ])('reads msisdn %s', (_title, fields, msisdn) => {
    expect(request(parseNdjsonLine(line(fields))).msisdn).toBe(msisdn);
  });

  it.each([
    ['msisdn that is an object', { msisdn: {} }, 'msisdn: not a string (got an object)'],
    ['msisdn that is a negative number', { msisdn: -1 }, 'msisdn: not a string or a non-negative integer'],
    ['bearer that is a number', { bearer: 3 }, 'bearer: not a string (got a number)'],
    ['client_ip that is an array', { client_ip: ['10.0.0.1'] }, 'client_ip: not a string (got an array)'],
    ['status that is negative', { status: -1 }, 'status: not a non-negative integer'],
    ['status that is text', { status: 'OK' }, 'status: not a non-negative integer'],
    ['status too large for the Avro record (2^31)', { status: 2 ** 31 }, 'status: not a non-negative integer'],
    ['bytes too large for the Avro record (2^53 - 1)', { bytes: 2 ** 53 - 1 }, 'bytes: not a non-negative integer'],
    ['bytes that is fractional', { bytes: 1.5 }, 'bytes: not a non-negative integer'],
  ])('rejects a record with %s', (_title, fields, reason) => {
    expect(parseNdjsonLine(line(fields))).toEqual({ ok: false, reason });
  });

  it('reads status and bytes given as strings of digits', () => {
    const r = request(parseNdjsonLine(line({ status: '404', bytes: '0' })));
    expect([r.status, r.bytes]).toEqual([404, 0]);
  });

  it('keys a request by gateway and request id when both are logged, numbers included', () => {
    expect(request(parseNdjsonLine(line({ gateway_id: 'gw-lon-01', request_id: 42 }))).requestKey).toBe('gw-lon-01:42');
  });

  it.each([
    ['neither id', {}],
    ['only a gateway id', { gateway_id: 'gw-lon-01' }],
    ['only a request id', { request_id: 'r1' }],
  ])('keys a request with %s by a hash of its line', (_title, fields) => {
    const text = line(fields);
    const expected = 'h:' + createHash('sha256').update(text).digest('hex').slice(0, 32);
    expect(request(parseNdjsonLine(text)).requestKey).toBe(expected);
    expect(request(parseNdjsonLine(text + '\r\n')).requestKey).toBe(expected);
  });

  it('gives different lines different hash keys', () => {
    const a = request(parseNdjsonLine(line({ msisdn: '447700900123' }))).requestKey;
    const b = request(parseNdjsonLine(line({ msisdn: '447700900124' }))).requestKey;
    expect(a).not.toBe(b);
  });

  it('ignores fields it does not know, __proto__ included', () => {
    const text = '{"ts":1326187862123,"url":"http://a.example/","shipper":{"host":"x"},"__proto__":{"host":"evil"},"headers":{"__proto__":"x"}}';
    const r = request(parseNdjsonLine(text));
    expect([r.host, r.headers]).toEqual(['a.example', [['__proto__', 'x']]]);
  });

  it('reads a line ending in CRLF', () => {
    expect(request(parseNdjsonLine(O2_LINE + '\r\n')).requestKey).toBe('gw-lon-01:123');
  });

  it.each([
    ['empty', ''],
    ['spaces and tabs', ' \t '],
    ['a lone CR', '\r'],
  ])('skips a blank line that is %s', (_title, text) => {
    expect(parseNdjsonLine(text)).toEqual({ ok: 'skip' });
  });

  it.each([
    ['truncated JSON', '{"ts":0,"url":"http://a.example/"', /^not valid JSON: /],
    ['a W3C line', '2012-01-10 09:31:02 gw-lon-01', /^not valid JSON: /],
    ['a JSON array', '[1,2]', /^not a JSON object \(got an array\)$/],
    ['a JSON string', '"x"', /^not a JSON object \(got a string\)$/],
    ['JSON null', 'null', /^not a JSON object \(got null\)$/],
  ])('rejects %s', (_title, text, reason) => {
    const result = parseNdjsonLine(text);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toMatch(reason);
  });

  it('keeps a reason short when the JSON error quotes a long line', () => {
    const result = parseNdjsonLine('{' + 'x'.repeat(10_000));
    expect(result.ok === false && result.reason.length).toBeLessThan(200);
  });
});
