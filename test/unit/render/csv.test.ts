import { describe, expect, it } from 'vitest';
import { csvField, csvRow, renderAffectedCsv, renderReportCsv } from '../../../services/render/index.js';
import { sampleReport } from './fixtures.js';

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    // Control characters never reach the file: they are written as visible escapes.
    ['two\nlines', 'two\\u000alines'],
    ['cr\rhere', 'cr\\u000dhere'],
    ['esc\u001b[31mred', 'esc\\u001b[31mred'],
    ['nul\u0000', 'nul\\u0000'],
    ['bidi\u202egnp.exe', 'bidi\\u202egnp.exe'],
    ['osc\u001b]0;title\u0007', 'osc\\u001b]0;title\\u0007'],
    ['', ''],
    ['=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['-cmd', "'-cmd"],
    ['+447700900123', '+447700900123'],
    ['-1', '-1'],
    ['-2.5', '-2.5'],
    ["-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"],
    ['+44 7700 900123', "'+44 7700 900123"],
    ['\tTAB', '\\u0009TAB'],
  ])('writes %j as %j', (value, field) => {
    expect(csvField(value)).toBe(field);
  });

  it('writes numbers as they are and null as an empty field', () => {
    expect(csvRow([1, null, 'x'])).toBe('1,,x\r\n');
  });
});

describe('renderReportCsv', () => {
  it('writes a header and one row per site in report order, lists joined with ;', () => {
    const lines = renderReportCsv(sampleReport()).split('\r\n');
    expect(lines).toEqual([
      'site,subscribers,violations,first_seen,last_seen,hosts,identifiers,identifier_not_allowed,partner_inactive,unauthorized_recipient',
      'example.com,7,10,2012-01-10T09:00:00.000Z,2012-01-25T13:00:00.000Z,www.example.com,header:x-msisdn;url,0,2,8',
      'news.co.uk,3,4,2012-01-10T09:00:01.123Z,2012-01-11T06:00:00.000Z,m.news.co.uk;www.news.co.uk,header:x-up-calling-line-id;referer,0,0,4',
      '"<script>alert(""x"")</script>",2,3,2012-01-12T02:00:00.000Z,2012-01-12T03:00:00.000Z,"<script>alert(""x"")</script>;a&b.example",header:x-msisdn,1,0,2',
      '',
    ]);
  });
});

describe('renderAffectedCsv', () => {
  it('writes the notification list header and rows', () => {
    expect(renderAffectedCsv([
      { msisdn: '+447700900123', sites: ['a.example', 'b,c.example'], firstExposure: '2012-01-10T09:00:00.000Z', lastExposure: '2012-01-11T09:00:00.000Z', violations: 3 },
    ])).toBe('msisdn,sites,first_exposure,last_exposure,violations\r\n' +
      '+447700900123,"a.example;b,c.example",2012-01-10T09:00:00.000Z,2012-01-11T09:00:00.000Z,3\r\n');
  });
});
