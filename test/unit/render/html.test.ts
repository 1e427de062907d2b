import { describe, expect, it } from 'vitest';
import { escapeHtml, renderReportHtml } from '../../../services/render/index.js';
import { buildReport } from '../../../services/store/index.js';
import { LEAK_WINDOW, sampleReport } from './fixtures.js';

describe('renderReportHtml', () => {
  const html = renderReportHtml(sampleReport(), { source: '/data/o2 "jan".duckdb' });

  it('is one self-contained document: no script, no external resource, a CSP that forbids both', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('escapes every value from the data, in text and in attributes', () => {
    expect(html).toContain('<div class="name">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</div>');
    expect(html).toContain('a&amp;b.example');
    expect(html).toContain('from /data/o2 &quot;jan&quot;.duckdb');
    expect(html).not.toContain('<script>alert');
  });

  it('draws one bar per hour with violations, labelled with its hour and count', () => {
    const bars = [...html.matchAll(/<rect class="bar"[^>]*data-bucket="([^"]+)" data-violations="(\d+)"><title>([^<]+)<\/title>/g)];
    expect(bars.map((b) => [b[1], Number(b[2])])).toEqual(sampleReport().timeline.map((t) => [t.bucket, t.violations]));
    expect(bars[0]![3]).toBe('2012-01-10 09:00 UTC: 5 violations');
    expect(bars[5]![3]).toBe('2012-01-25 13:00 UTC: 1 violation');
  });

  it('has one table row per site, in report order', () => {
    const sites = [...html.matchAll(/<td class="site"><div class="name">([^<]*)<\/div>/g)].map((m) => m[1]);
    expect(sites).toEqual(['example.com', 'news.co.uk', '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;']);
  });

  it('names the site in the title when narrowed to one', () => {
    expect(renderReportHtml(sampleReport(), { site: 'example.com' })).toContain('<h1>Exposure report for example.com</h1>');
  });

  it('says so when the window has no violations', () => {
    const empty = renderReportHtml(buildReport(LEAK_WINDOW, { totals: { violations: 0, subscribers: 0, sites: 0 }, sites: [], timeline: [] }));
    expect(empty).toContain('No violations in this window.');
    expect(empty).not.toContain('<svg');
  });
});

describe('escapeHtml', () => {
  it('shows control characters as escapes instead of passing them on', () => {
    expect(escapeHtml('a\u202eb\u001b[2J\u0000')).toBe('a\\u202eb\\u001b[2J\\u0000');
  });

  it('escapes the five characters that matter in HTML text and attributes', () => {
    expect(escapeHtml(`<a href='x'>"&"</a>`)).toBe('&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;');
  });
});
