// Each writer's fixture (test/fixtures/formats, written from the writer's documentation) read
// line for line with the fields expected, and a reject with its reason for each malformed form.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtInProfile, createLineParser, parseProfile, type LineParser, type LogProfile } from '../../../../services/core/parse/index.js';
import type { GatewayRequest, LogFormat, ParseResult } from '../../../../services/core/types.js';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/formats');

/** The results of a fixture's lines that are not directives or blank, and the unread fields declared. */
function parseFixture(file: string, format: LogFormat, profile: LogProfile | null): { results: ParseResult[]; unread: string[] } {
  const parser = createLineParser(format, profile);
  const results: ParseResult[] = [];
  const unread: string[] = [...(parser.unreadFields?.() ?? [])];
  for (const line of readFileSync(join(FIXTURES, file), 'utf8').split('\n')) {
    const r = parser.parseLine(line);
    if (r.ok === 'skip') unread.push(...(parser.unreadFields?.() ?? []));
    else results.push(r);
  }
  return { results, unread };
}

function req(r: ParseResult | undefined): GatewayRequest {
  if (r === undefined || r.ok !== true) throw new Error(`expected a request, got ${JSON.stringify(r)}`);
  return r.request;
}

/** The fields a test states, out of a request. */
function fields(r: ParseResult | undefined): Record<string, unknown> {
  const q = req(r);
  return {
    ts: new Date(q.ts).toISOString(), msisdn: q.msisdn, clientIp: q.clientIp, method: q.method, scheme: q.scheme,
    host: q.host, port: q.port, path: q.path, query: q.query, status: q.status, bytes: q.bytes, headers: q.headers,
  };
}

function profile(value: unknown): LogProfile {
  return parseProfile(value, 'test profile');
}

function lastResult(parser: LineParser, lines: string[]): ParseResult {
  let r: ParseResult = { ok: 'skip' };
  for (const line of lines) r = parser.parseLine(line);
  return r;
}

describe('Blue Coat ProxySG main format (W3C)', () => {
  it('reads every line, counts TCP_DENIED and sc-filter-result DENIED as not forwarded, with no profile or flag', () => {
    const { results, unread } = parseFixture('proxysg-main.log', 'w3c', null);
    expect(results.map((r) => r.ok)).toEqual([true, 'not_forwarded', true, 'not_forwarded']);
    expect(fields(results[0])).toEqual({
      ts: '2012-01-10T09:31:02.000Z', msisdn: null, clientIp: '10.12.0.5', method: 'GET', scheme: 'http', host: 'www.example.com',
      port: 80, path: '/news', query: 'id=1', status: 200, bytes: 5120,
      headers: [['user-agent', 'Mozilla/5.0 (Linux; U; Android 2.3.4)'], ['x-msisdn', '447700900123']],
    });
    expect(req(results[2]).headers).toEqual([['referer', 'http://www.example.com/news'], ['user-agent', 'Mozilla/5.0']]);
    expect(unread).toEqual(['time-taken', 'cs-bytes', 'cs-username', 'cs-auth-group', 's-hierarchy', 's-supplier-name', 'rs(Content-Type)', 'cs-categories', 'x-virus-id', 's-ip']);
  });

  it('reads the RADIUS number an operator logs in cs-username when the profile says so', () => {
    const p = profile({ format: 'proxysg', fields: { 'cs-username': 'msisdn' } });
    const { results, unread } = parseFixture('proxysg-main.log', 'w3c', p);
    expect(req(results[0]).msisdn).toBe('447700900123');
    expect(unread).not.toContain('cs-username');
  });

  it('counts a request as not forwarded by a profile rule on a custom field', () => {
    const p = profile({ format: 'w3c', not_forwarded: [{ field: 'x-verdict', values: ['blocked'] }] });
    const parser = createLineParser('w3c', p);
    expect(lastResult(parser, ['#Fields: date time cs-host x-verdict', '2012-01-10 09:31:02 a.example BLOCKED']).ok).toBe('not_forwarded');
    expect(parser.parseLine('2012-01-10 09:31:02 a.example PASSED').ok).toBe(true);
  });

  it.each([
    ['a line with a field missing', '2012-01-10 09:31:02 15 10.12.0.5 200 TCP_NC_MISS', '6 values for the 26 fields declared by #Fields'],
    ['a date that does not exist', '2012-02-30 09:31:02 15 10.12.0.5 200 TCP_NC_MISS 5120 410 GET http www.example.com 80 /news - - - DIRECT - - - - OBSERVED - - 192.0.2.1 -', 'date: "2012-02-30" is not a date YYYY-MM-DD'],
    ['a status that is not a number', '2012-01-10 09:31:02 15 10.12.0.5 2xx TCP_NC_MISS 5120 410 GET http www.example.com 80 /news - - - DIRECT - - - - OBSERVED - - 192.0.2.1 -', 'sc-status: "2xx" is not a non-negative integer'],
    ['an unterminated quote', '2012-01-10 09:31:02 15 10.12.0.5 200 TCP_NC_MISS 5120 410 GET http www.example.com 80 /news - - - DIRECT - - - "Mozilla OBSERVED - - 192.0.2.1 -', 'unterminated quoted value in field 21 (cs(User-Agent))'],
  ])('rejects %s with its reason', (_title, line, reason) => {
    const parser = createLineParser('w3c', null);
    const fieldsLine = readFileSync(join(FIXTURES, 'proxysg-main.log'), 'utf8').split('\n').find((l) => l.startsWith('#Fields:'))!;
    expect(lastResult(parser, [fieldsLine, line])).toEqual({ ok: false, reason });
  });
});

describe('Microsoft IIS (W3C, + for spaces)', () => {
  it('reads + as a space because #Software names IIS: the cookie and the spaced X-MSISDN keep their numbers', () => {
    const { results, unread } = parseFixture('iis-u_ex120110.log', 'w3c', null);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(fields(results[0])).toEqual({
      ts: '2012-01-10T09:31:02.000Z', msisdn: null, clientIp: '10.12.0.5', method: 'GET', scheme: null, host: 'www.example.com',
      port: null, path: '/default.aspx', query: 'id=1', status: 200, bytes: null,
      headers: [['user-agent', 'Mozilla/5.0 (Linux; U; Android 2.3.4)'], ['cookie', 'lang=en'], ['referer', 'http://www.example.com/'], ['x-msisdn', '+44 7700 900123']],
    });
    expect(req(results[1]).headers).toEqual([['user-agent', 'Mozilla/5.0 (Linux; U; Android 2.3.4)'], ['cookie', 'msisdn=07700 900123; lang=en']]);
    expect(unread).toEqual(['s-ip', 's-port', 'cs-username', 'sc-substatus', 'sc-win32-status', 'time-taken']);
  });

  it('keeps + as written without the directive, and reads it as a space with --format iis', () => {
    const lines = ['#Fields: date time cs-host cs(Cookie)', '2012-01-10 09:31:02 a.example msisdn=07700+900123;+lang=en'];
    expect(req(lastResult(createLineParser('w3c', null), lines)).headers).toEqual([['cookie', 'msisdn=07700+900123;+lang=en']]);
    expect(req(lastResult(createLineParser('w3c', builtInProfile('iis')), lines)).headers).toEqual([['cookie', 'msisdn=07700 900123; lang=en']]);
  });

  it('keeps + as written when a profile says the writer does not use it for spaces, whatever #Software says', () => {
    const parser = createLineParser('w3c', profile({ format: 'w3c', plus_is_space: false }));
    const r = lastResult(parser, ['#Software: Microsoft Internet Information Services 10.0', '#Fields: date time cs-host cs(X-A)', '2012-01-10 09:31:02 a.example a+b']);
    expect(req(r).headers).toEqual([['x-a', 'a+b']]);
  });
});

describe('Amazon CloudFront (tab-separated W3C)', () => {
  it('splits on tabs, so a value with spaces stays whole; the host is x-host-header, not the distribution', () => {
    const { results, unread } = parseFixture('cloudfront-E2EXAMPLE.2019-12-04-21.log', 'w3c', null);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(fields(results[0])).toMatchObject({
      ts: '2019-12-04T21:02:31.000Z', clientIp: '192.0.2.100', method: 'GET', scheme: 'https', host: 'www.example.com',
      path: '/index.html', query: '', status: 200, bytes: 392,
    });
    expect(fields(results[1])).toMatchObject({ scheme: 'http', path: '/p', query: 'msisdn=447700900123' });
    expect(req(results[1]).headers).toContainEqual(['user-agent', 'Mozilla/5.0 (Windows NT 10.0)']);
    expect(unread).toContain('x-edge-request-id');
    expect(unread).not.toContain('x-host-header');
    expect(unread).not.toContain('cs-protocol');
  });

  it('rejects a line of a tab-separated file with a field missing', () => {
    const parser = createLineParser('w3c', null);
    const r = lastResult(parser, [
      '#Fields: date time cs-host cs(User-Agent) sc-status',
      '2012-01-10\t09:31:02\ta.example\tMozilla/5.0 (X11; Linux)\t200',
      '2012-01-10\t09:31:03\ta.example\tMozilla/5.0 (X11)',
    ]);
    expect(r).toEqual({ ok: false, reason: '4 values for the 5 fields declared by #Fields' });
  });
});

describe('Squid native format', () => {
  it('reads every code of the native format, counts TCP_DENIED/403 as not forwarded, and reads CONNECT targets', () => {
    const { results, unread } = parseFixture('squid-native-access.log', 'squid', builtInProfile('squid'));
    expect(results.map((r) => r.ok)).toEqual([true, 'not_forwarded', true, true]);
    expect(fields(results[0])).toEqual({
      ts: '2012-01-10T09:31:02.123Z', msisdn: null, clientIp: '10.12.0.5', method: 'GET', scheme: 'http', host: 'www.example.com',
      port: null, path: '/news', query: 'id=1', status: 200, bytes: 5120, headers: [],
    });
    expect(fields(results[2])).toMatchObject({ method: 'CONNECT', host: 'www.example.com', port: 443, path: '' });
    expect(unread).toEqual(['%tr', '%un', '%Sh', '%<a', '%mt']);
  });

  it('reads the user name as the session number when the profile maps %un', () => {
    const { results } = parseFixture('squid-native-access.log', 'squid', profile({ format: 'squid', fields: { '%un': 'msisdn' } }));
    expect(req(results[3]).msisdn).toBe('447700900125');
  });

  it.each([
    ['a status without its /', '1326187862.123    145 10.12.0.5 TCP_MISS 200 5120 GET http://a.example/ - HIER_DIRECT/203.0.113.10 text/html', '%Ss: expected "/" at column 41'],
    ['a time that is not epoch seconds', 'abc.123    145 10.12.0.5 TCP_MISS/200 5120 GET http://a.example/ - HIER_DIRECT/203.0.113.10 text/html', '%ts: "abc.123" is not epoch seconds'],
    ['a line cut short', '1326187862.123    145 10.12.0.5 TCP_MISS/200 5120', 'the line ends after %<st: 6 more field(s) expected'],
    ['a URL with no host', '1326187862.123    145 10.12.0.5 TCP_MISS/200 5120 GET /only/a/path - HIER_DIRECT/203.0.113.10 text/html', 'missing host: no host field, no host in the url and no Host header'],
  ])('rejects %s with its reason', (_title, line, reason) => {
    expect(createLineParser('squid', builtInProfile('squid')).parseLine(line)).toEqual({ ok: false, reason });
  });
});

describe('Squid with a logformat of its own (request_header_add)', () => {
  const enriched = profile({
    format: 'squid', squid_logformat: '%ts.%03tu %>a %un %rm %ru %>Hs %Ss %{Host}>h %{X-MSISDN}>ha', fields: { '%un': 'msisdn' },
  });

  it('reads %{Name}>ha as the header forwarded upstream, %-decoded, and %un as the session number', () => {
    const { results, unread } = parseFixture('squid-enriched-access.log', 'squid', enriched);
    expect(results.map((r) => r.ok)).toEqual([true, 'not_forwarded', true, true]);
    expect(fields(results[0])).toEqual({
      ts: '2012-01-10T09:31:02.123Z', msisdn: '447700900123', clientIp: '10.12.0.5', method: 'GET', scheme: 'http', host: 'www.example.com',
      port: null, path: '/news', query: 'id=1', status: 200, bytes: null,
      headers: [['host', 'www.example.com'], ['x-msisdn', '447700900123']],
    });
    expect(fields(results[2])).toMatchObject({ msisdn: null, status: null, headers: [['host', 'www.example.com']] });
    expect(req(results[3]).headers).toEqual([['host', 'www.example.com'], ['x-msisdn', '+44 7700 900125']]);
    expect(unread).toEqual([]);
  });

  it('reads the issue\'s logformat as given, the forwarded header replacing what the client sent', () => {
    const p = profile({ format: 'squid', squid_logformat: '%ts.%03tu %>a %un %rm %ru %>Hs %{X-MSISDN}>h %{X-MSISDN}>ha' });
    const r = createLineParser('squid', p).parseLine('1326187862.123 10.12.0.5 - GET http://a.example/ 200 spoofed 447700900123');
    expect(req(r).headers).toEqual([['x-msisdn', '447700900123']]);
  });

  it('reads a "-quoted value with spaces and escapes', () => {
    const p = profile({ format: 'squid', squid_logformat: '%ts %>a %ru %"{User-Agent}>h' });
    const r = createLineParser('squid', p).parseLine('1326187862 10.12.0.5 http://a.example/ "Mozilla/5.0 (\\"X\\")"');
    expect(req(r).headers).toEqual([['user-agent', 'Mozilla/5.0 ("X")']]);
  });

  it('rejects a line with text after its last field', () => {
    const p = profile({ format: 'squid', squid_logformat: '%ts %>a %ru "%{X-A}>h"' });
    expect(createLineParser('squid', p).parseLine('1326187862 10.12.0.5 http://a.example/ "v" extra'))
      .toEqual({ ok: false, reason: 'unexpected text after the last field at column 44' });
  });
});

describe('CSV and TSV exports with a header row', () => {
  it('maps the columns by the profile: quoted values with commas and "", the Action rule, unread columns', async () => {
    const { readProfileFile } = await import('../../../../services/files/index.js');
    const p = await readProfileFile(join(FIXTURES, 'gateway-export.profile.yaml'));
    const { results, unread } = parseFixture('gateway-export.csv', 'csv', p);
    expect(results.map((r) => r.ok)).toEqual([true, 'not_forwarded', true]);
    expect(fields(results[0])).toEqual({
      ts: '2012-01-10T09:31:02.123Z', msisdn: '447700900123', clientIp: '10.12.0.5', method: 'GET', scheme: 'http', host: 'www.example.com',
      port: null, path: '/news', query: 'id=1', status: 200, bytes: 5120, headers: [['x-msisdn', '447700900123']],
    });
    expect(fields(results[2])).toMatchObject({ path: '/a,b', query: 'q="x"', msisdn: '447700900125' });
    expect(unread).toEqual(['Device']);
  });

  it('reads a TSV whose columns already have leakscope names with no profile: epoch-ms times, spaces in values, empty = absent', () => {
    const { results, unread } = parseFixture('gateway-export.tsv', 'csv', builtInProfile('tsv'));
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(fields(results[0])).toMatchObject({
      ts: '2012-01-10T09:31:02.123Z', msisdn: '447700900123', host: 'www.example.com',
      headers: [['x-msisdn', '447700900123'], ['user-agent', 'Mozilla/5.0 (Linux; U; Android 2.3.4)']],
    });
    expect(req(results[0]).bearer).toBe('3g');
    expect(fields(results[1])).toMatchObject({ msisdn: null, headers: [['user-agent', 'Opera/9.80 (J2ME/MIDP)']] });
    expect(unread).toEqual([]);
  });

  it.each([
    ['a row with a column missing', '2012-01-10T09:31:02Z,4477,10.0.0.1,GET,http://a.example/,200,1,ALLOW,', '9 values for the 10 columns of the header row'],
    ['an unterminated quote', '"2012-01-10T09:31:02Z,4477,10.0.0.1,GET,http://a.example/,200,1,ALLOW,,', 'unterminated quoted value in column 1 (a value spanning lines is not supported)'],
    ['a time without a zone', '2012-01-10T09:31:02,4477,10.0.0.1,GET,http://a.example/,200,1,ALLOW,,', 'Start Time: "2012-01-10T09:31:02" is not a time as auto'],
    ['a status that is not a number', '2012-01-10T09:31:02Z,4477,10.0.0.1,GET,http://a.example/,OK,1,ALLOW,,', 'HTTP Status: "OK" is not a non-negative integer'],
    ['text after a closing quote', '2012-01-10T09:31:02Z,"4477"x,10.0.0.1,GET,http://a.example/,200,1,ALLOW,,', 'unexpected character after the closing quote of column 2 at column 28'],
  ])('rejects %s with its reason', async (_title, line, reason) => {
    const { readProfileFile } = await import('../../../../services/files/index.js');
    const parser = createLineParser('csv', await readProfileFile(join(FIXTURES, 'gateway-export.profile.yaml')));
    const header = readFileSync(join(FIXTURES, 'gateway-export.csv'), 'utf8').split('\n')[0]!;
    expect(lastResult(parser, [header, line])).toEqual({ ok: false, reason });
  });

  it('refuses a header row that gives no host, and every line after it', () => {
    const parser = createLineParser('csv', builtInProfile('csv'));
    expect(parser.parseLine('when,who')).toEqual({ ok: false, reason: "header row: no field gives the request's host (a url, host or Host header field); map one in the profile's fields" });
    expect(parser.parseLine('2012-01-10T09:31:02Z,x').ok).toBe(false);
  });
});
