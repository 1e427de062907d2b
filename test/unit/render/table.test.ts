import { describe, expect, it } from 'vitest';
import { cleanText, renderReportTable, renderWhoSawTable, sparkline } from '../../../services/render/index.js';
import { buildReport, buildWhoSaw } from '../../../services/store/index.js';
import { LEAK_WINDOW, T0, sampleReport } from './fixtures.js';

const H = 3_600_000;

describe('renderReportTable', () => {
  const text = renderReportTable(sampleReport());
  const lines = text.split('\n');

  it('heads the report with the window, totals and verdict totals', () => {
    expect(lines.slice(0, 5)).toEqual([
      'leakscope exposure report',
      '  window    2012-01-10 00:00:00Z to 2012-01-25 14:00:00Z  (UTC, end excluded)',
      '  totals    17 violations · 9 subscribers · 3 sites',
      '  verdicts  identifier_not_allowed 1 · partner_inactive 2 · unauthorized_recipient 14',
      '',
    ]);
  });

  it('aligns every column: each header starts where its values start, numbers end where their header ends', () => {
    const header = lines.findIndex((l) => l.startsWith('SITE'));
    const rows = lines.slice(header + 2, header + 5);
    expect(rows.map((r) => r.split(/\s{2,}/)[0])).toEqual(['example.com', 'news.co.uk', '<script>alert("x")</script>']);
    const head = lines[header]!;
    for (const title of ['FIRST SEEN', 'LAST SEEN', 'IDENTIFIERS', 'VERDICTS', 'HOSTS']) {
      const at = head.indexOf(title);
      for (const row of rows) expect(row[at - 1]).toBe(' '), expect(row[at]).not.toBe(' ');
    }
    for (const title of ['SUBSCRIBERS', 'VIOLATIONS']) {
      const end = head.indexOf(title) + title.length;
      for (const row of rows) expect(row[end - 1]).toMatch(/\d/), expect(row[end]).toBe(' ');
    }
    expect(lines[header + 1]).toMatch(/^-+( {2}-+)+$/);
    expect(rows[0]).toMatch(/^example\.com\s+7\s+10\s+2012-01-10 09:00:00Z\s+2012-01-25 13:00:00Z\s+header:x-msisdn url\s+partner_inactive 2, unauthorized_recipient 8\s+www\.example\.com$/);
  });

  it('draws the timeline as a sparkline over the window', () => {
    const at = lines.findIndex((l) => l.startsWith('Violations per'));
    expect(lines[at]).toBe('Violations per 6 hours (highest 6):');
    expect(lines[at + 1]).toMatch(/^ {2}\|[ ▁▂▃▄▅▆▇█]+\|$/);
    expect(lines[at + 2]).toMatch(/^ {2}2012-01-10 +2012-01-25$/);
  });

  it('shortens long host lists and long site lists, and says so', () => {
    const many = buildReport(LEAK_WINDOW, {
      totals: { violations: 60, subscribers: 60, sites: 60 },
      sites: Array.from({ length: 60 }, (_, i) => ({
        site: `s${String(i).padStart(2, '0')}.example`, hosts: ['a', 'b', 'c', 'd', 'e'].map((h) => `${h}.s${i}.example`),
        violations: 1, subscribers: 1, firstSeen: T0, lastSeen: T0, identifiers: ['url'], verdicts: { unauthorized_recipient: 1 },
      })),
      timeline: [{ bucket: T0, violations: 60 }],
    });
    const out = renderReportTable(many);
    expect(out).toContain('a.s0.example b.s0.example c.s0.example +2');
    expect(out).toContain('… and 10 more sites (--format csv, json or html lists them all)');
    expect(out).not.toContain('s50.example');
  });

  it('says so when nothing was found', () => {
    const empty = renderReportTable(buildReport(LEAK_WINDOW, { totals: { violations: 0, subscribers: 0, sites: 0 }, sites: [], timeline: [] }));
    expect(empty).toContain('No violations in this window.');
    expect(empty).toContain('verdicts  none');
  });

  it('never passes control characters to the terminal', () => {
    const hostile = buildReport(LEAK_WINDOW, {
      totals: { violations: 1, subscribers: 1, sites: 1 },
      sites: [{ site: 'evil\u001b[2J.example', hosts: ['x\u202ey.example'], violations: 1, subscribers: 1, firstSeen: T0, lastSeen: T0, identifiers: ['url'], verdicts: { unauthorized_recipient: 1 } }],
      timeline: [],
    });
    const out = renderReportTable(hostile);
    expect(out).not.toMatch(/[\u001b\u202e]/);
    expect(out).toContain('evil\\u001b[2J.example');
  });
});

describe('renderWhoSawTable', () => {
  it('lists recipients in first-seen order with partner and window', () => {
    const answer = buildWhoSaw('+4477009****23', { from: T0, to: null }, [
      { site: 'b.example', host: 'www.b.example', verdict: 'authorized', partnerId: 'ageverify', requests: 2, identifiers: ['header:x-msisdn'], firstSeen: T0 + 2 * H, lastSeen: T0 + 3 * H },
      { site: 'a.example', host: 'a.example', verdict: 'unauthorized_recipient', partnerId: null, requests: 12, identifiers: ['url', 'referer'], firstSeen: T0 + H, lastSeen: T0 + 5 * H },
    ]);
    const lines = renderWhoSawTable(answer).split('\n');
    expect(lines[0]).toBe('Who saw +4477009****23');
    expect(lines[1]).toBe('  window      2012-01-10 00:00:00Z to now  (UTC, end excluded)');
    expect(lines[2]).toBe('  recipients  2 sites, 14 requests, of which 12 violations');
    expect(lines[6]).toMatch(/^2012-01-10 01:00:00Z\s+2012-01-10 05:00:00Z\s+a\.example\s+a\.example\s+unauthorized_recipient\s+-\s+12\s+referer url$/);
    expect(lines[7]).toMatch(/www\.b\.example\s+authorized\s+ageverify\s+2\s+header:x-msisdn$/);
  });
});

describe('sparkline', () => {
  it('gives one character per bin, a space for an empty bin and a full block for the highest', () => {
    const s = sparkline({ from: T0, to: T0 + 10 * H }, [{ bucket: T0, violations: 1 }, { bucket: T0 + 9 * H, violations: 8 }]);
    expect(s).toEqual({ line: '▁        █', binHours: 1, max: 8 });
  });

  it('picks a coarser bin for a long window and never draws a bin with violations as empty', () => {
    const s = sparkline({ from: T0, to: T0 + 30 * 24 * H }, [{ bucket: T0, violations: 1 }, { bucket: T0 + 24 * H, violations: 1000 }]);
    expect(s.binHours).toBe(12);
    expect(s.line).toHaveLength(60);
    expect(s.line[0]).toBe('▁');
  });

  it('counts a bucket that starts before a mid-hour window start in the first bin', () => {
    const s = sparkline({ from: T0 + H / 2, to: T0 + 3 * H }, [{ bucket: T0, violations: 3 }]);
    expect(s.line[0]).toBe('█');
  });
});

describe('cleanText', () => {
  it('shows control and bidi characters as escapes and leaves the rest', () => {
    expect(cleanText('a\tb\u0007c\u202ed·é')).toBe('a\\u0009b\\u0007c\\u202ed·é');
  });
});
