// Squid's %tl (local time) and %tg (GMT) with a strftime format argument (issue 7 remainder):
// Squid's logformat documentation (squid-cache.org/Doc/config/logformat) gives both as
// "[strftime format argument]", default "%d/%b/%Y:%H:%M:%S %z", formatted in the C locale.
import { describe, expect, it } from 'vitest';
import { builtInProfile, createLineParser, parseProfile, withSquidLogformat } from '../../../../services/core/parse/index.js';
import type { ParseResult } from '../../../../services/core/types.js';

const TAIL = '%>a %rm %ru %>Hs %{X-MSISDN}>ha';
const REST = '10.12.0.5 GET http://www.news.co.uk/a 200 447700900123';

function parse(time: string, line: string): ParseResult {
  const profile = withSquidLogformat(builtInProfile('squid'), `${time} ${TAIL}`);
  return createLineParser('squid', profile).parseLine(line);
}

function tsOf(result: ParseResult): string {
  if (result.ok !== true) throw new Error(`expected a request, got ${JSON.stringify(result)}`);
  return new Date(result.request.ts).toISOString();
}

describe('a %tl or %tg with a strftime format', () => {
  it.each([
    ['GMT with a space inside, before a space separator', '%{%Y-%m-%d %H:%M:%S}tg', '2012-01-10 09:31:02', '2012-01-10T09:31:02.000Z'],
    ['GMT as %F %T', '%{%F %T}tg', '2012-01-10 09:31:02', '2012-01-10T09:31:02.000Z'],
    ['GMT as RFC 1123, zone name and weekday', '%{%a, %d %b %Y %H:%M:%S %Z}tg', 'Tue, 10 Jan 2012 09:31:02 GMT', '2012-01-10T09:31:02.000Z'],
    ['local with %z, in brackets', '[%{%d/%b/%Y:%H:%M:%S %z}tl]', '[10/Jan/2012:10:31:02 +0100]', '2012-01-10T09:31:02.000Z'],
    ['local ISO 8601 with %z', '%{%Y-%m-%dT%H:%M:%S%z}tl', '2012-01-10T04:31:02-0500', '2012-01-10T09:31:02.000Z'],
    ['local as epoch seconds', '%{%s}tl', '1326187862', '2012-01-10T09:31:02.000Z'],
    ['a two-digit year and a space-padded day', '%{%e/%m/%y-%H:%M}tg', ' 9/01/12-09:31', '2012-01-09T09:31:00.000Z'],
    ['a full month name, any case', '%{%d %B %Y %H:%M:%S}tg', '10 JANUARY 2012 09:31:02', '2012-01-10T09:31:02.000Z'],
  ])('%s: %s', (_what, time, written, iso) => {
    const result = parse(time, `${written} ${REST}`);
    expect(tsOf(result)).toBe(iso);
    expect(result.ok === true && [result.request.host, result.request.clientIp, result.request.headers]).toEqual(['www.news.co.uk', '10.12.0.5', [['x-msisdn', '447700900123']]]);
  });

  it('still reads %tl without a format as the Common Log Format', () => {
    expect(tsOf(parse('[%tl]', `[10/Jan/2012:10:31:02 +0100] ${REST}`))).toBe('2012-01-10T09:31:02.000Z');
  });

  it.each([
    ['a time that is not in the format', '%{%Y-%m-%d %H:%M:%S}tg', '10/Jan/2012:09:31:02', /^%\{%Y-%m-%d %H:%M:%S\}tg: no time written as "%Y-%m-%d %H:%M:%S" at column 1$/],
    ['a date that does not exist', '%{%Y-%m-%d %H:%M:%S}tg', '2012-02-30 09:31:02', /^%\{%Y-%m-%d %H:%M:%S\}tg: "2012-02-30 09:31:02" is not a time written as "%Y-%m-%d %H:%M:%S"$/],
    ['an hour out of range', '%{%F %T}tg', '2012-01-10 24:31:02', /is not a time written as "%F %T"$/],
  ])('rejects the line for %s, with the reason', (_what, time, written, reason) => {
    const result = parse(time, `${written} ${REST}`);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toMatch(reason);
  });

  it.each([
    ['a local time without %z (its zone is unknown)', '%{%Y-%m-%d %H:%M:%S}tl', /a local time without %z cannot be placed in UTC: add %z to the format, or log the time with %tg/],
    ['a format without the time of day', '%{%Y-%m-%d}tg', /does not give a whole date and time/],
    ['a conversion leakscope does not read', '%{%Y %j %H:%M}tg', /strftime conversion %j is not read/],
    ['a 12-hour clock', '%{%Y-%m-%d %I:%M %p}tg', /12-hour time/],
  ])('refuses the logformat for %s, at start', (_what, time, why) => {
    expect(() => withSquidLogformat(builtInProfile('squid'), `${time} ${TAIL}`)).toThrow(why);
    expect(() => parseProfile({ format: 'squid', squid_logformat: `${time} ${TAIL}` }, 'p.yaml')).toThrow();
  });
});
