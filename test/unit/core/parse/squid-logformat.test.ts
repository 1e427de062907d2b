// Squid logformat specifications read as Squid reads them (squid-cache.org/Doc/config/logformat
// and Squid's token parser, src/format/Token.cc): `%%` is a literal percent sign, the
// modifiers `[encoding] [-] [[0]width] [.max]` change how a value is written, literal quotes
// and brackets quote the codes between them, `%.Ntu` gives N digits, and `%tu` completes a
// `%tl` / `%tg` time. Each code is either read as Squid wrote it or refused at start.
import { describe, expect, it } from 'vitest';
import {
  builtInProfile, createLineParser, parseProfile, parseSquidLogformat, withSquidLogformat, type LogProfile,
} from '../../../../services/core/parse/index.js';
import { detect } from '../../../../services/core/detect/index.js';
import { buildSnapshot, parseRegistry } from '../../../../services/core/registry/index.js';
import type { GatewayRequest, ParseResult } from '../../../../services/core/types.js';

const URL_AND_IP = '10.12.0.5 http://www.news.co.uk/a';

function parserFor(logformat: string, fields: Record<string, string> = {}): ReturnType<typeof createLineParser> {
  const profile: LogProfile = Object.keys(fields).length === 0
    ? withSquidLogformat(builtInProfile('squid'), logformat)
    : parseProfile({ format: 'squid', squid_logformat: logformat, fields }, 'test profile');
  return createLineParser('squid', profile);
}

function parse(logformat: string, line: string, fields: Record<string, string> = {}): ParseResult {
  return parserFor(logformat, fields).parseLine(line);
}

function req(r: ParseResult): GatewayRequest {
  if (r.ok !== true) throw new Error(`expected a request, got ${JSON.stringify(r)}`);
  return r.request;
}

function iso(r: ParseResult): string {
  return new Date(req(r).ts).toISOString();
}

describe('%% in a logformat', () => {
  it('is a literal percent sign, also before letters that would be a code (%%T is the text %T)', () => {
    const format = parseSquidLogformat('%ts %%T %>a %%%ru');
    expect(typeof format !== 'string' && [format.codes.map((c) => c.code), format.literals]).toEqual([['ts', '>a', 'ru'], ['', ' %T ', ' %', '']]);
    expect(iso(parse('%ts %%T %>a %%%ru', '1326187862 %T 10.12.0.5 %http://www.news.co.uk/a'))).toBe('2012-01-10T09:31:02.000Z');
    expect(parse('%ts %%T %>a %ru', `1326187862 09:31:02 ${URL_AND_IP}`)).toEqual({ ok: false, reason: '%ts: expected " %T " at column 11' });
  });

  it('is a literal percent sign inside a strftime format too, which is not then read as a conversion', () => {
    const r = parse(`%{%Y-%m-%d %H:%M:%S %%T}tg %>a %ru`, `2012-01-10 09:31:02 %T ${URL_AND_IP}`);
    expect(iso(r)).toBe('2012-01-10T09:31:02.000Z');
    expect(iso(parse('%{%%d %F %T}tg %>a %ru', `%d 2012-01-10 09:31:02 ${URL_AND_IP}`))).toBe('2012-01-10T09:31:02.000Z');
    // %%z is the text "%z", not a zone: a local time without a zone is refused, not read an hour off.
    expect(() => withSquidLogformat(builtInProfile('squid'), '%{%d/%b/%Y:%H:%M:%S %%z}tl %>a %ru')).toThrow(/a local time without %z cannot be placed in UTC/);
    // %%I is the text "%I", not a 12-hour clock.
    expect(iso(parse('%{%F %T %%I}tg %>a %ru', `2012-01-10 09:31:02 %I ${URL_AND_IP}`))).toBe('2012-01-10T09:31:02.000Z');
  });
});

describe('width modifiers', () => {
  it.each([
    ['left-aligned, padded before a | separator', '%ts %-12>a|%ru', '1326187862 10.12.0.5   |http://www.news.co.uk/a'],
    ['right-aligned, padded after a | separator', '%ts|%12>a|%ru', '1326187862|   10.12.0.5|http://www.news.co.uk/a'],
    ['right-aligned inside brackets', '%ts [%12>a] %ru', '1326187862 [   10.12.0.5] http://www.news.co.uk/a'],
    ['the native format\'s %6tr, padded between spaces', '%ts %6tr %>a %ru', '1326187862      5 10.12.0.5 http://www.news.co.uk/a'],
  ])('reads a value of a minimum width: %s', (_what, logformat, line) => {
    const q = req(parse(logformat, line));
    expect([q.clientIp, q.host, q.path]).toEqual(['10.12.0.5', 'www.news.co.uk', '/a']);
  });

  it('refuses at start a maximum width on a field leakscope reads: Squid cuts the value, and a cut number is another number', () => {
    expect(() => withSquidLogformat(builtInProfile('squid'), '%ts %>a %.20ru'))
      .toThrow('--squid-logformat: %ru has a maximum width (.20): Squid cuts longer values, and leakscope reads this field, so a cut value would be read as another one; remove .20 from the logformat, or map "%ru" to ignore in the profile\'s fields');
    expect(() => withSquidLogformat(builtInProfile('squid'), '%ts %>a %ru %.12{X-MSISDN}>ha')).toThrow(/^--squid-logformat: %\{X-MSISDN\}>ha has a maximum width \(\.12\)/);
    expect(() => parseProfile({ format: 'squid', squid_logformat: '%ts %ru %-.10un', fields: { '%un': 'msisdn' } }, 'p.yaml'))
      .toThrow(/squid_logformat: %un has a maximum width \(\.10\)/);
  });

  it('accepts a maximum width on a field nobody reads, or one the profile maps to ignore', () => {
    expect(req(parse('%ts %>a %ru %.10mt', `1326187862 ${URL_AND_IP} text/html`)).host).toBe('www.news.co.uk');
    expect(req(parse('%ts %>a %ru %.4{X-Other}>h', `1326187862 ${URL_AND_IP} abcd`, { '%{x-other}>h': 'ignore' })).headers).toEqual([]);
    // Squid ignores .N on numbers: nothing is cut.
    expect(req(parse('%.3ts %>a %ru %.1>Hs', `1326187862 ${URL_AND_IP} 200`)).status).toBe(200);
  });
});

describe('quoting', () => {
  it('reads a code between literal quotes as Squid quotes it: spaces kept, \\" and \\\\ undone', () => {
    const q = req(parse('%ts %>a %ru "%{User-Agent}>h" %{X-MSISDN}>ha', `1326187862 ${URL_AND_IP} "Mozilla/5.0 (Linux; U) \\"x\\" \\\\" 447700900123`));
    expect(q.headers).toEqual([['user-agent', 'Mozilla/5.0 (Linux; U) "x" \\'], ['x-msisdn', '447700900123']]);
  });

  it('reads Squid\'s built-in combined format, a request line and two quoted headers', () => {
    const combined = '%>a %[ui %[un [%tl] "%rm %ru HTTP/%rv" %>Hs %<st "%{Referer}>h" "%{User-Agent}>h" %Ss:%Sh';
    const line = '10.12.0.5 - - [10/Jan/2012:10:31:02 +0100] "GET http://www.news.co.uk/a?msisdn=447700900123 HTTP/1.1" 200 5120 "http://ref.example/ x" "Mozilla/5.0 (X11; Linux)" TCP_MISS:HIER_DIRECT';
    const q = req(parse(combined, line));
    expect([new Date(q.ts).toISOString(), q.method, q.host, q.query, q.status, q.bytes, q.headers]).toEqual([
      '2012-01-10T09:31:02.000Z', 'GET', 'www.news.co.uk', 'msisdn=447700900123', 200, 5120,
      [['referer', 'http://ref.example/ x'], ['user-agent', 'Mozilla/5.0 (X11; Linux)']],
    ]);
  });

  it('rejects a quoted value that is never closed, naming the code', () => {
    expect(parse('%ts %>a %ru "%{User-Agent}>h"', `1326187862 ${URL_AND_IP} "Mozilla \\"`))
      .toEqual({ ok: false, reason: '%{User-Agent}>h: no closing quote after its value (the line ends at column 56)' });
  });

  it('reads a code between literal brackets with spaces (Squid\'s [ encoding does not encode them), %-decoded', () => {
    const q = req(parse('%ts %>a %ru [%{X-MSISDN}>h]', `1326187862 ${URL_AND_IP} [+44 7700%5b900123%5d]`));
    expect(q.headers).toEqual([['x-msisdn', '+44 7700[900123]']]);
  });

  it('decodes by the encoding the code has: %-decoded by default, #, [ ; as written with \'', () => {
    const line = `1326187862 ${URL_AND_IP} 44%207700`;
    for (const enc of ['', '#', '[']) expect(req(parse(`%ts %>a %ru %${enc}{X-MSISDN}>h`, line)).headers).toEqual([['x-msisdn', '44 7700']]);
    expect(req(parse(`%ts %>a %ru %'{X-MSISDN}>h`, line)).headers).toEqual([['x-msisdn', '44%207700']]);
  });

  it.each(["'", '/', '"'])('refuses at start a header written with the %s encoding (spaces left in) followed by a space, where a space would shift the columns', (enc) => {
    expect(() => withSquidLogformat(builtInProfile('squid'), `%ts %${enc}{User-Agent}>h %>a %ru`))
      .toThrow(`--squid-logformat: %{User-Agent}>h is written with the ${enc} encoding, which leaves spaces in the value, and is followed by a space, so a value with a space would shift every later field`);
  });

  it('accepts such a header last on the line, between literal quotes, or mapped to ignore, and a URL written as is', () => {
    expect(req(parse(`%ts %>a %ru %'{User-Agent}>h`, `1326187862 ${URL_AND_IP} Mozilla/5.0 (X11; Linux)`)).headers).toEqual([['user-agent', 'Mozilla/5.0 (X11; Linux)']]);
    expect(req(parse(`%ts "%'{User-Agent}>h" %>a %ru`, `1326187862 "Mozilla/5.0 (X11)" ${URL_AND_IP}`)).clientIp).toBe('10.12.0.5');
    expect(req(parse(`%ts %'{User-Agent}>h %>a %ru`, `1326187862 Mozilla ${URL_AND_IP}`, { '%{user-agent}>h': 'ignore' })).clientIp).toBe('10.12.0.5');
    expect(req(parse(`%ts %'ru %>a`, `1326187862 http://www.news.co.uk/a 10.12.0.5`)).host).toBe('www.news.co.uk');
  });

  it('reads the http:: namespace prefix', () => {
    expect(req(parse('%http::ts %http::>a %http::ru', `1326187862 ${URL_AND_IP}`)).clientIp).toBe('10.12.0.5');
  });
});

describe('header list members', () => {
  it('does not read %{Name:member}>h as the header Name, and lists it as unread', () => {
    const parser = parserFor('%ts %>a %ru %{Cookie:;msisdn}>h');
    expect(parser.unreadFields?.()).toEqual(['%{Cookie:;msisdn}>h']);
    expect(req(parser.parseLine(`1326187862 ${URL_AND_IP} 447700900123`)).headers).toEqual([]);
  });

  it('reads it where the profile maps it, e.g. as the session number', () => {
    expect(req(parse('%ts %>a %ru %{Cookie:;msisdn}>h', `1326187862 ${URL_AND_IP} 447700900123`, { '%{cookie:;msisdn}>h': 'msisdn' })).msisdn).toBe('447700900123');
  });
});

describe('sub-second time', () => {
  it.each([
    ['after %ts', '%ts.%03tu', '1326187862.007', '2012-01-10T09:31:02.007Z'],
    ['without zero padding (a count, not a decimal fraction)', '%ts.%tu', '1326187862.7', '2012-01-10T09:31:02.007Z'],
    ['from microseconds (.6)', '%ts.%06.6tu', '1326187862.007250', '2012-01-10T09:31:02.007Z'],
    ['from tenths (.1)', '%ts.%.1tu', '1326187862.7', '2012-01-10T09:31:02.700Z'],
    // A %tl / %tg time has whole seconds: the milliseconds of %tu on the same line complete it.
    ['into the Common Log Format time of [%tl]', '[%tl.%03tu]', '[10/Jan/2012:10:31:02 +0100.999]', '2012-01-10T09:31:02.999Z'],
    ['into Squid\'s GMT default (no zone written)', '%tg.%03tu', '10/Jan/2012:09:31:02.999', '2012-01-10T09:31:02.999Z'],
    ['into a strftime GMT time', '%{%F %T}tg.%03tu', '2012-01-10 09:31:02.001', '2012-01-10T09:31:02.001Z'],
    ['into a strftime local time with its zone, %tu further on', '%{%Y-%m-%dT%H:%M:%S%z}tl|%03tu', '2012-01-10T04:31:02-0500|042', '2012-01-10T09:31:02.042Z'],
  ])('reads milliseconds %s', (_what, logformat, written, expected) => {
    expect(iso(parse(`${logformat} %>a %ru`, `${written} ${URL_AND_IP}`))).toBe(expected);
  });

  it('orders requests of the same second by their milliseconds, and places them on the right side of a boundary', () => {
    const parser = parserFor('%{%F %T}tg.%03tu %>a %ru');
    const at = (ms: string): number => req(parser.parseLine(`2012-01-25 13:59:59.${ms} ${URL_AND_IP}`)).ts;
    const fix = Date.parse('2012-01-25T14:00:00Z');
    expect([at('000') < at('001'), at('001') < at('999'), at('999') < fix, at('999') === fix - 1]).toEqual([true, true, true, true]);
    expect(req(parser.parseLine(`2012-01-25 14:00:00.000 ${URL_AND_IP}`)).ts).toBe(fix);
  });

  it('judges a request by its milliseconds at the end of a partner\'s contract (valid_to is exclusive)', () => {
    const snapshot = buildSnapshot(parseRegistry(`
version: "2012-01-15.1"
region: GB
partners:
  - id: billing
    name: Billing Co
    purposes: [carrier_billing]
    domains: ["pay.billing.example"]
    identifiers: [x-msisdn]
    valid_from: "2011-01-01T00:00:00Z"
    valid_to: "2012-01-15T14:00:00.500Z"
`, 'test registry'));
    const parser = parserFor('%{%F %T}tg.%03tu %>a %ru %{X-MSISDN}>ha');
    const verdictAt = (time: string): string | undefined => detect(req(parser.parseLine(`${time} 10.12.0.5 http://pay.billing.example/pay 447700900123`)), snapshot)?.verdict;
    expect([verdictAt('2012-01-15 14:00:00.499'), verdictAt('2012-01-15 14:00:00.500')]).toEqual(['authorized', 'partner_inactive']);
  });

  it('keeps a Common Log Format time\'s own fraction, and rejects a %tu that is not milliseconds', () => {
    expect(iso(parse('[%tl] %>a %ru %tu', `[10/Jan/2012:10:31:02.250 +0100] ${URL_AND_IP} 250`))).toBe('2012-01-10T09:31:02.250Z');
    expect(parse('%tg.%tu %>a %ru', `10/Jan/2012:09:31:02.1234 ${URL_AND_IP}`)).toEqual({ ok: false, reason: '%tu: "1234" is not milliseconds (0 to 999)' });
  });
});
