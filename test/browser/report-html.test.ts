// The HTML report in a real browser (Debian's Chromium via playwright-core): the page a
// regulator or an investigator opens must render its chart and table, load nothing from the
// network, run no script, and log no error. A screenshot is kept for a human to look at.
import { access, constants, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Disclosure, Verdict } from '../../services/core/types.js';
import { keyCheckOf } from '../../services/keys/index.js';
import { openDuckDbStore } from '../../services/store/duckdb/index.js';
import { Protector, type ReportJson } from '../../services/store/index.js';
import { run } from '../unit/cli/query-fixture.js';

// The page function below runs in Chromium; the project compiles without the DOM library, so
// this file declares the little of the DOM it uses (module-scoped, not a global).
interface PageElement {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { width: number; height: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement> & { length: number };
  textContent: string | null;
  innerHTML: string;
}
declare const document: PageElement;

const CHROMIUM = process.env['LEAKSCOPE_CHROMIUM'] ?? '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const H = 3_600_000;
const T0 = Date.parse('2012-01-10T00:00:00Z');
const WINDOW = ['--from', '2012-01-10T00:00:00Z', '--to', '2012-01-25T14:00:00Z'];

/** A deterministic O2-like data set: many sites, a ramp after the change, a hostile host name. */
function incident(): Disclosure[] {
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const sites = ['bbc.co.uk', 'facebook.com', 'google.co.uk', 'twitter.com', 'wikipedia.org', 'amazon.co.uk', 'ebay.co.uk',
    'guardian.co.uk', 'dailymail.co.uk', 'youtube.com', 'yahoo.com', 'msn.com', 'sky.com', 'skysports.com', 'xn--bcher-kva.example'];
  const out: Disclosure[] = [];
  for (let i = 0; i < 900; i++) {
    const hour = Math.floor(random() ** 0.8 * 374);
    const site = i % 97 === 0 ? '<img src=x onerror=alert(1)>.example' : sites[Math.floor(random() ** 2 * sites.length)]!;
    const verdict: Verdict = i % 31 === 0 ? 'partner_inactive' : i % 17 === 0 ? 'identifier_not_allowed' : i % 11 === 0 ? 'authorized' : 'unauthorized_recipient';
    out.push({
      id: `b${i}`, requestKey: `gw:${i}`, ts: T0 + hour * H + Math.floor(random() * H), host: `www.${site}`, site,
      subscriber: `+4477009${String(Math.floor(random() * 400)).padStart(5, '0')}`,
      channels: [i % 5 === 0 ? 'referer' : 'header:x-up-calling-line-id'], verdict,
      partnerId: verdict === 'unauthorized_recipient' ? null : 'partner', registryVersion: 'r1', gatewayId: 'gw-lon-01', bearer: '3g',
      method: 'GET', scheme: 'http', path: '/', queryMasked: '', status: 200,
    });
  }
  // Outside the window: must not be drawn.
  out.push({ ...out[0]!, id: 'late', requestKey: 'gw:late', ts: Date.parse('2012-01-25T14:00:00Z') });
  return out;
}

async function requireChromium(): Promise<void> {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`${CHROMIUM} not found: install chromium: bash deploy/local/browser ensure`);
  }
}

describe('the HTML report in Chromium', () => {
  let dir: string;
  let db: string;
  let browser: Browser;

  beforeAll(async () => {
    await requireChromium();
    dir = await mkdtemp(join(tmpdir(), 'leakscope-browser-'));
    db = join(dir, 'incident.duckdb');
    const keys = { hashKey: Buffer.alloc(32, 1), encKey: Buffer.alloc(32, 2) };
    const store = await openDuckDbStore(db);
    try {
      const protector = new Protector(keys);
      await store.write(incident().map((d) => protector.toStored(d)));
      await store.writeMeta({ region: 'GB', keyCheck: keyCheckOf(keys) });
    } finally {
      await store.close();
    }
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    } catch (error) {
      throw new Error(`Chromium did not start (${(error as Error).message.split('\n')[0]}): install chromium: bash deploy/local/browser ensure`);
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders one bar per hour with violations and one row per site, offline and without errors', async () => {
    const html = join(dir, 'report.html');
    const made = await run(['report', ...WINDOW, '--db', db, '--format', 'html', '--out', html]);
    expect(made.code, made.stderr).toBe(0);
    const json = await run(['report', ...WINDOW, '--db', db, '--format', 'json']);
    const report = JSON.parse(json.stdout) as ReportJson;
    expect(report.timeline.length).toBeGreaterThan(100);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageUrl = pathToFileURL(html).href;
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => { if (r.url() !== pageUrl) requests.push(r.url()); });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
    await page.goto(pageUrl, { waitUntil: 'load' });

    const seen = await page.evaluate(() => {
      const bars = [...document.querySelectorAll('svg.timeline rect.bar')].map((r) => {
        const box = r.getBoundingClientRect();
        return { bucket: r.getAttribute('data-bucket'), violations: Number(r.getAttribute('data-violations')), width: box.width, height: box.height };
      });
      const rows = [...document.querySelectorAll('table.sites tbody tr')].map((tr) => {
        const cells = [...tr.querySelectorAll('td')];
        return [cells[0]?.querySelector('.name')?.textContent, cells[1]?.textContent, cells[2]?.textContent];
      });
      const hosts = [...document.querySelectorAll('table.sites tbody td.site .hosts')].map((d) => d.innerHTML.split('<br>'));
      const table = document.querySelector('table.sites')!.getBoundingClientRect();
      const frame = document.querySelector('.scroll')!.getBoundingClientRect();
      return {
        bars, rows, hosts, fits: table.width <= frame.width + 1,
        scripts: document.querySelectorAll('script').length,
        images: document.querySelectorAll('img').length,
        cards: [...document.querySelectorAll('.card .value')].map((e) => e.textContent),
        title: document.querySelector('h1')?.textContent,
      };
    });

    expect(seen.bars.map((b) => [b.bucket, b.violations])).toEqual(report.timeline.map((t) => [t.bucket, t.violations]));
    for (const bar of seen.bars) expect(bar.width).toBeGreaterThan(0), expect(bar.height).toBeGreaterThan(0);
    const tallest = seen.bars.reduce((a, b) => (b.height > a.height ? b : a));
    expect(tallest.violations).toBe(Math.max(...report.timeline.map((t) => t.violations)));
    expect(seen.rows).toEqual(report.sites.map((s) => [s.site, String(s.subscribers), String(s.violations)]));
    expect(seen.rows.map((r) => r[0])).toContain('<img src=x onerror=alert(1)>.example');
    expect(seen.hosts.map((h) => h.length)).toEqual(report.sites.map((s) => s.hosts.length));
    expect(seen.fits, 'the sites table fits the page width without scrolling').toBe(true);
    expect(seen.scripts).toBe(0);
    expect(seen.images).toBe(0);
    expect(seen.cards).toEqual([report.totals.violations, report.totals.subscribers, report.totals.sites].map((n) => n.toLocaleString('en-US')));
    expect(seen.title).toBe('Exposure report');
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);

    const shot = join(process.env['LEAKSCOPE_SCREENSHOT_DIR'] ?? tmpdir(), 'leakscope-report-html.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await readFile(shot)).subarray(1, 4).toString()).toBe('PNG');
    process.stdout.write(`screenshot of the HTML report: ${shot}\n`);
    await page.close();
  }, 60_000);
});
