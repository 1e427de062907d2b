import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeSiteFlag } from '../../../services/cli/commands/report.js';
import { redactUrl, resolveStoreLocation } from '../../../services/cli/store-option.js';
import { makeStore, run, WINDOW, type Fixture } from './query-fixture.js';

describe('leakscope report', () => {
  let fx: Fixture;
  beforeAll(async () => { fx = await makeStore(); });
  afterAll(async () => { await rm(fx.dir, { recursive: true, force: true }); });

  const base = () => ['report', '--from', WINDOW.from, '--to', WINDOW.to, '--db', fx.db];

  it('prints the contract JSON of the window, pretty-printed, ending in a newline', async () => {
    const r = await run([...base(), '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('}\n')).toBe(true);
    const report = JSON.parse(r.stdout);
    expect(r.stdout).toBe(JSON.stringify(report, null, 2) + '\n');
    expect(report.window).toEqual({ from: '2012-01-10T00:00:00.000Z', to: '2012-01-25T14:00:00.000Z' });
    expect(report.totals).toEqual({ violations: 5, subscribers: 2, sites: 3 });
    expect(report.sites.map((s: { site: string }) => s.site)).toEqual(['example.com', '<script>alert(1)</script>', 'xn--bcher-kva.example']);
    expect(report.sites[0]).toEqual({
      site: 'example.com', hosts: ['m.example.com', 'www.example.com'], violations: 3, subscribers: 2,
      first_seen: '2012-01-10T09:31:02.123Z', last_seen: '2012-01-11T12:00:00.000Z',
      identifiers: ['header:x-msisdn', 'url'], verdicts: { unauthorized_recipient: 3 },
    });
    expect(report.timeline).toEqual([
      { bucket: '2012-01-10T09:00:00.000Z', violations: 2 },
      { bucket: '2012-01-11T12:00:00.000Z', violations: 1 },
      { bucket: '2012-01-12T08:00:00.000Z', violations: 1 },
      { bucket: '2012-01-20T23:00:00.000Z', violations: 1 },
    ]);
  });

  it('prints a readable table by default', async () => {
    const r = await run(base());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2012-01-10 00:00:00Z to 2012-01-25 14:00:00Z');
    expect(r.stdout).toContain('5 violations · 2 subscribers · 3 sites');
    expect(r.stdout).toMatch(/^example\.com\s+2\s+3\s+2012-01-10 09:31:02Z/m);
  });

  it('narrows to one site given as a host, in Unicode or punycode', async () => {
    for (const site of ['BÜCHER.example', 'www.xn--bcher-kva.example']) {
      const r = await run([...base(), '--format', 'json', '--site', site]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.sites.map((s: { site: string }) => s.site)).toEqual(['xn--bcher-kva.example']);
      expect(report.totals).toEqual({ violations: 1, subscribers: 1, sites: 1 });
      expect(r.stderr).toContain('reporting site xn--bcher-kva.example');
    }
  });

  it('writes csv to --out and says where', async () => {
    const out = join(fx.dir, 'report.csv');
    const r = await run([...base(), '--format', 'csv', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`written to ${out}`);
    const lines = (await readFile(out, 'utf8')).split('\r\n');
    expect(lines[0]).toBe('site,subscribers,violations,first_seen,last_seen,hosts,identifiers,identifier_not_allowed,partner_inactive,unauthorized_recipient');
    expect(lines[1]).toBe('example.com,2,3,2012-01-10T09:31:02.123Z,2012-01-11T12:00:00.000Z,m.example.com;www.example.com,header:x-msisdn;url,0,0,3');
    expect(lines).toHaveLength(5); // header, three sites, and the empty string after the last CRLF
  });

  it('writes one html page in which a hostile host name is only text', async () => {
    const out = join(fx.dir, 'report.html');
    expect((await run([...base(), '--format', 'html', '--out', out])).code).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script');
    expect(html.match(/<rect class="bar"/g)).toHaveLength(4);
  });

  it.each([
    [['--from', 'yesterday', '--to', WINDOW.to], /--from "yesterday": not a time/],
    [['--from', '2012-01-10T00:00:00', '--to', WINDOW.to], /--from "2012-01-10T00:00:00": a time of day needs a zone/],
    [['--from', WINDOW.to, '--to', WINDOW.from], /--from "2012-01-25T14:00:00Z" is not before --to "2012-01-10T00:00:00Z"/],
    [['--from', WINDOW.from, '--to', WINDOW.from], /is not before --to/],
    [['--to', WINDOW.to], /report needs --from TIME/],
    [['--from', WINDOW.from, '--to', WINDOW.to, '--format', 'pdf'], /--format "pdf": expected one of table, json, csv, html/],
    [['--from', WINDOW.from, '--to', WINDOW.to, '--site', 'a b'], /--site "a b": not a host or site name/],
    [['--from', WINDOW.from, '--to', WINDOW.to, '--bogus'], /Unknown option '--bogus'/],
    [['--from', WINDOW.from, '--to', WINDOW.to, '--db', 'x.duckdb', '--clickhouse', 'http://127.0.0.1:8123/'], /either --db PATH or --clickhouse URL/],
  ])('refuses %j with exit 2 and says why', async (args, message) => {
    const r = await run(['report', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('refuses a store that does not exist, with exit 2 and what to do', async () => {
    const missing = join(fx.dir, 'nothing-here.duckdb');
    const r = await run(['report', '--from', WINDOW.from, '--to', WINDOW.to, '--db', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no store at ${missing}: run leakscope scan first`);
  });

  it('looks for ./leakscope.duckdb in the working directory when no store is named', async () => {
    const r = await run(['report', '--from', WINDOW.from, '--to', WINDOW.to, '--format', 'json'], { cwd: fx.dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).totals.violations).toBe(5);
  });
});

describe('normalizeSiteFlag', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['www.o2.co.uk', 'o2.co.uk'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['10.0.0.1', '10.0.0.1'],
  ])('reads %s as site %s', (value, site) => {
    expect(normalizeSiteFlag(value)).toBe(site);
  });
});

describe('which store a query command reads', () => {
  const cwd = '/work/case';
  it.each([
    [{}, {}, { kind: 'duckdb', path: '/work/case/leakscope.duckdb' }],
    [{ db: 'o2.duckdb' }, {}, { kind: 'duckdb', path: '/work/case/o2.duckdb' }],
    [{ db: '/data/o2.duckdb' }, { CLICKHOUSE_URL: 'http://127.0.0.1:8123/leakscope' }, { kind: 'duckdb', path: '/data/o2.duckdb' }],
    [{}, { CLICKHOUSE_URL: 'http://127.0.0.1:8123/leakscope' }, { kind: 'clickhouse', url: 'http://127.0.0.1:8123/leakscope', fromEnv: true }],
    [{ clickhouse: 'http://ch:8123/x' }, { CLICKHOUSE_URL: 'http://other:8123/' }, { kind: 'clickhouse', url: 'http://ch:8123/x', fromEnv: false }],
  ])('flags %j with environment %j → %j', (flags, env, location) => {
    expect(resolveStoreLocation(flags, env, cwd)).toEqual(location);
  });

  it('refuses a ClickHouse URL that is not http(s), and never shows its password', () => {
    expect(() => resolveStoreLocation({ clickhouse: 'tcp://ch:9000' }, {}, cwd)).toThrow(/expected an http:\/\/ or https:\/\/ URL/);
    expect(() => resolveStoreLocation({ clickhouse: 'not a url :secret@' }, {}, cwd)).toThrow(/not a URL/);
    expect(redactUrl('http://reader:s3cret@ch:8123/leakscope')).toBe('http://reader:***@ch:8123/leakscope');
  });

  it('says on stderr when CLICKHOUSE_URL chose ClickHouse, and a server that cannot be reached is a fault (exit 1)', async () => {
    const r = await run(['report', '--from', WINDOW.from, '--to', WINDOW.to], { env: { CLICKHOUSE_URL: 'http://u:secret@127.0.0.1:9/leakscope' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('reading ClickHouse at http://u:***@127.0.0.1:9/leakscope (from CLICKHOUSE_URL');
    expect(r.stderr).not.toContain('secret');
  });
});
