// The web console in Debian's Chromium (playwright-core) against a real `leakscope serve`
// process over a DuckDB store that `leakscope scan` built from the incident fixture, plus a
// few requests whose host names and header names look hostile (punycode homographs, 63-char
// labels, header names full of HTML entities) and a registry whose partner name is markup.
// A user signs in, reads the report and its chart, drills into a site, downloads the CSV,
// looks up a number with a reason, finds the audit entry, signs out; a viewer meets the
// not-allowed states; an empty store and a rate limit show their states. Throughout: no
// console error, no request to another origin, every value shown as text. Screenshots of
// every page at 1280×800 and 1366×768 are written for a human to look at.
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportJson, WhoSawJson } from '../../services/store/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/leakscope.js');
const FIXTURE = join(ROOT, 'test/fixtures/incident');
const CHROMIUM = process.env['LEAKSCOPE_CHROMIUM'] ?? '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env['LEAKSCOPE_SCREENSHOT_DIR'] ?? join(tmpdir(), 'leakscope-console-screenshots');
const VIEWPORTS = [{ width: 1280, height: 800 }, { width: 1366, height: 768 }] as const;

// Hostile-looking values that survive the parser (they are what a misconfigured or malicious
// upstream could really put into the logs); each must appear on the page exactly as written.
const LONG_LABEL = `${'a'.repeat(20)}-${'b'.repeat(42)}`; // 63 characters, the most a label may have
const HOSTILE = {
  homograph: 'xn--80ak6aa92e.com', // "аррӏе.com" in Cyrillic
  longHost: `${LONG_LABEL}.${LONG_LABEL}.example`,
  longSite: `${LONG_LABEL}.example`,
  idnSite: 'xn--e1afmkfd.xn--80akhbyknj4f', // пример.испытание
  entityHeader: "header:x-&lt&amp'%3cimg", // an HTML parser would turn &lt into <
  // HTML5 reads &lt and &gt even without their semicolons (';' is not allowed in a header name)
  markupHeader: 'header:x-&ltb&gt',
  partnerName: '<img src=x onerror=alert(3)> Partner & "Co"',
  partnerHeader: "x-&lt&amp'sub",
};
const HOSTILE_LOG = [
  { ts: '2012-01-12T10:00:00.000Z', gateway_id: 'gw-x', request_id: 'gw-x:1', msisdn: '447700900123', url: `http://${HOSTILE.homograph}/login`,
    headers: { Host: HOSTILE.homograph, "X-&lt&amp'%3Cimg": '447700900123' } },
  { ts: '2012-01-12T11:00:00.000Z', gateway_id: 'gw-x', request_id: 'gw-x:2', msisdn: '447700900123', url: `http://${HOSTILE.longHost}/`,
    headers: { Host: HOSTILE.longHost, 'X-MSISDN': '447700900123' } },
  { ts: '2012-01-12T12:00:00.000Z', gateway_id: 'gw-x', request_id: 'gw-x:3', msisdn: '447700900123', url: 'http://пример.испытание/',
    headers: { 'X-MSISDN': '447700900123', 'x-&ltb&gt': 'x 447700900123' } },
].map((r) => JSON.stringify(r)).join('\n') + '\n';
const HOSTILE_PARTNER = `
  - id: hostile
    name: ${JSON.stringify(HOSTILE.partnerName)}
    purposes: ["<script>alert(4)</script>"]
    domains: ["*.hostile-partner.example"]
    identifiers: ["x-msisdn"]
    valid_from: "2011-06-01T00:00:00Z"
    valid_to: "2012-03-01T00:00:00Z"
`;
/** A subscriber of the fixture with many recipients; typed in national format, as an agent would. */
const LOOKUP = { typed: '07700 923872', e164: '+447700923872', digits: '7700923872' };
const REASON = 'Ticket CS-4711: customer asked who received their number';

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

interface Server { process: ChildProcess; url: string; stderr: () => string }

/** `leakscope serve` on a free loopback port; resolves with its address once it listens. */
function serve(args: string[], cwd: string): Promise<Server> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', ...args], {
      cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KAFKA_BROKERS: '', CLICKHOUSE_URL: '' },
    });
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`serve did not start within 30 s:\n${stderr}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      const m = /listening on (https?:\/\/[^\s]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        done({ process: child, url: m[1]!.replace(/\/$/, ''), stderr: () => stderr });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`serve exited with ${code}:\n${stderr}`)); });
  });
}

async function stop(server: Server | undefined): Promise<void> {
  if (!server || server.process.exitCode !== null) return;
  const exited = new Promise((r) => server.process.once('exit', r));
  server.process.kill('SIGTERM');
  await exited;
}

async function requireBuilt(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new Error(`${path} is missing: build first: npm run build`);
  }
}

/** What the page did that it must not: console errors, page errors, dialogs, foreign requests. */
class Watch {
  readonly problems: string[] = [];
  readonly foreign: string[] = [];
  readonly urls: string[] = [];
  readonly bodies: string[] = [];

  constructor(page: Page, origin: string, private readonly expected: RegExp[] = []) {
    page.on('console', (m) => {
      if ((m.type() === 'error' || m.type() === 'warning') && !this.expected.some((e) => e.test(m.text()))) this.problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => { this.problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
    page.on('request', (r) => {
      this.urls.push(r.url());
      this.bodies.push(r.postData() ?? '');
      if (new URL(r.url()).origin !== origin && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) this.foreign.push(r.url());
    });
  }
}

async function shot(page: Page, name: string): Promise<void> {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    const path = join(SHOTS, `console-${name}-${viewport.width}x${viewport.height}.png`);
    await page.screenshot({ path, fullPage: false });
    expect((await readFile(path)).subarray(1, 4).toString()).toBe('PNG');
  }
  await page.setViewportSize(VIEWPORTS[0]);
}

/** True when nothing in the page's main area is wider than its box (no sideways scrolling). */
function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
    return d.documentElement.scrollWidth <= d.documentElement.clientWidth;
  });
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.locator('#token').fill(token);
  await page.locator('form.sign-in button[type=submit]').click();
  await page.locator('header.top').waitFor();
}

describe('the web console in Chromium against leakscope serve', () => {
  let dir: string;
  let db: string;
  let browser: Browser;
  let main: Server;
  let empty: Server;
  let emptyDb: string;
  const tokens: Record<string, string> = {};
  let report: ReportJson;

  const api = async (server: Server, path: string, token = tokens['privacy_officer']!): Promise<Response> =>
    fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    try {
      await access(CHROMIUM, constants.X_OK);
    } catch {
      throw new Error(`${CHROMIUM} not found: install chromium: bash deploy/local/browser ensure`);
    }
    await requireBuilt(join(ROOT, 'dist/cli/main.js'));
    await requireBuilt(join(ROOT, 'dist/serve/console/client/main.js'));
    await mkdir(SHOTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'leakscope-console-'));
    db = join(dir, 'incident.duckdb');
    const registry = join(dir, 'registry.yaml');
    const fixtureRegistry = await readFile(join(FIXTURE, 'registry.yaml'), 'utf8');
    await writeFile(registry, fixtureRegistry
      .replace(/^version: .*$/m, 'version: "console-test.1"')
      .replace(/^identity_headers:\n/m, `identity_headers:\n  - ${JSON.stringify(HOSTILE.partnerHeader)}\n`)
      .replace(/^partners:\n/m, `partners:${HOSTILE_PARTNER}`));
    await writeFile(join(dir, 'hostile.ndjson'), HOSTILE_LOG);
    const logs = ['gw-lon-01.ndjson', 'gw-man-02.log', 'gw-gla-03.ndjson.gz'].map((f) => join(FIXTURE, 'logs', f));
    const scanned = await cli(['scan', '--registry', registry, '--db', db, '--rejects', join(dir, 'rejects.ndjson'), ...logs, join(dir, 'hostile.ndjson')], dir);
    expect(scanned.code, scanned.stderr).toBe(0);
    const users = join(dir, 'users.yaml');
    for (const [name, role] of [['ana.lyst', 'viewer'], ['ivan.vestigator', 'investigator'], ['pia.officer', 'privacy_officer']] as const) {
      const added = await cli(['users', 'add', name, '--role', role, '--users', users], dir);
      expect(added.code, added.stderr).toBe(0);
      tokens[role] = added.stdout.trim();
    }
    main = await serve(['--db', db, '--users', users, '--registry', registry], dir);

    // A second store with nothing in it, and a lookup budget of one per minute.
    emptyDb = join(dir, 'empty.duckdb');
    await writeFile(join(dir, 'empty.ndjson'), '');
    const none = await cli(['scan', '--registry', registry, '--db', emptyDb, join(dir, 'empty.ndjson')], dir);
    expect(none.code, none.stderr).toBe(0);
    empty = await serve(['--db', emptyDb, '--users', users, '--lookups-per-minute', '1'], dir);

    const answer = await api(main, '/api/v1/report?from=2000-01-01&to=2030-01-01');
    expect(answer.status).toBe(200);
    report = (await answer.json()) as ReportJson;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    } catch (error) {
      throw new Error(`Chromium did not start (${(error as Error).message.split('\n')[0]}): install chromium: bash deploy/local/browser ensure`);
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stop(main);
    await stop(empty);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('a privacy officer', () => {
    let context: BrowserContext;
    let page: Page;
    let watch: Watch;

    beforeAll(async () => {
      context = await browser.newContext({ viewport: VIEWPORTS[0], acceptDownloads: true });
      page = await context.newPage();
      watch = new Watch(page, main.url);
    });
    afterAll(async () => {
      await context?.close();
    });

    it('serves the page with a strict Content-Security-Policy and nothing inline', async () => {
      const res = await fetch(`${main.url}/`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(res.status).toBe(200);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).not.toMatch(/https?:\/\//); // nothing from another origin
    });

    it('signs in with a token for an HttpOnly, SameSite=Strict session cookie and shows the report with its chart', async () => {
      await page.goto(`${main.url}/`);
      await page.locator('#token').waitFor();
      await shot(page, 'sign-in');
      await signIn(page, main.url, tokens['privacy_officer']!);
      await page.locator('table.sites tbody tr').first().waitFor();

      const cookies = await context.cookies(main.url);
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      expect(await page.locator('#token').count()).toBe(0);
      expect(await page.locator('.who .user').textContent()).toBe('pia.officer');

      expect(await page.locator('.card .value').allTextContents())
        .toEqual([report.totals.violations, report.totals.subscribers, report.totals.sites].map((n) => n.toLocaleString('en-US')));
      const bars = await page.locator('svg.timeline rect.bar').evaluateAll((rects) =>
        rects.map((r) => [r.getAttribute('data-bucket'), Number(r.getAttribute('data-violations')), r.getBoundingClientRect().height]));
      expect(bars.map(([bucket, n]) => [bucket, n])).toEqual(report.timeline.map((t) => [t.bucket, t.violations]));
      const tallest = bars.reduce((a, b) => ((b[2] as number) > (a[2] as number) ? b : a));
      expect(tallest[1]).toBe(Math.max(...report.timeline.map((t) => t.violations)));
      expect(await page.locator('table.sites tbody td[data-key="site"] .name').allTextContents()).toEqual(report.sites.map((s) => s.site));
      expect(await fitsWidth(page)).toBe(true);
      await shot(page, 'report');
    });

    it('renders hostile host and header names from the logs as the text they are', async () => {
      const names = await page.locator('table.sites td[data-key="site"] .name').allTextContents();
      expect(names).toEqual(expect.arrayContaining([HOSTILE.homograph, HOSTILE.longSite, HOSTILE.idnSite]));
      const codes = await page.locator('table.sites td[data-key="identifiers"] code').allTextContents();
      expect(codes).toEqual(expect.arrayContaining([HOSTILE.entityHeader, HOSTILE.markupHeader]));
      // Only the logo is an image; no element came out of a value.
      expect(await page.locator('#app img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')))).toEqual(['/console/logo.svg']);
      expect(await page.locator('#app script, #app b').count()).toBe(0);
      // (Playwright's screenshots leave an empty style="" on inputs when they hide the caret.)
      const styled = await page.locator('[style]:not([style=""])').evaluateAll((els) => els.map((e) => e.outerHTML.slice(0, 120)));
      expect(styled).toEqual([]);
    });

    it('sorts the sites by a column and filters them by text', async () => {
      const header = page.locator('table.sites th[data-key="violations"] button.sort');
      await header.click();
      expect(await page.locator('table.sites th[data-key="violations"]').getAttribute('aria-sort')).toBe('descending');
      const descending = [...report.sites].map((s, i) => ({ s, i })).sort((a, b) => b.s.violations - a.s.violations || a.i - b.i).map((e) => e.s.site);
      expect(await page.locator('table.sites tbody td[data-key="site"] .name').allTextContents()).toEqual(descending);
      await header.click();
      expect(await page.locator('table.sites th[data-key="violations"]').getAttribute('aria-sort')).toBe('ascending');
      expect((await page.locator('table.sites tbody td[data-key="site"] .name').allTextContents())[0])
        .toBe([...report.sites].sort((a, b) => a.violations - b.violations)[0]!.site);

      await page.locator('table.sites').locator('..').locator('..').locator('input[type=search]').fill('xn--');
      const wanted = report.sites.filter((s) => [s.site, ...s.hosts, ...s.identifiers].join(' ').includes('xn--')).map((s) => s.site);
      expect(wanted.length).toBeGreaterThan(1);
      expect(new Set(await page.locator('table.sites tbody td[data-key="site"] .name').allTextContents())).toEqual(new Set(wanted));
      await page.locator('input[type=search]').fill('no-such-site-anywhere');
      expect(await page.locator('table.sites tbody tr.none').textContent()).toContain('Nothing matches');
      await page.locator('input[type=search]').fill('');
    });

    it('downloads the CSV the API gives for the window', async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('button[data-download="csv"]').first().click()]);
      const saved = await readFile((await download.path())!, 'utf8');
      const expected = await (await api(main, `/api/v1/report?from=${encodeURIComponent(report.window.from)}&to=${encodeURIComponent(report.window.to)}&format=csv`)).text();
      expect(saved).toBe(expected);
      expect(download.suggestedFilename()).toMatch(/^leakscope-report-.*\.csv$/);
    });

    it('drills into a site: its hosts, identifiers, verdicts and its own hourly chart', async () => {
      const top = report.sites[0]!;
      await page.locator('table.sites tbody tr', { has: page.locator('.name', { hasText: new RegExp(`^${top.site.replaceAll('.', '\\.')}$`) }) }).click();
      await page.locator('.page-site table.hosts tbody tr').first().waitFor();
      expect(await page.locator('h1.site-title').textContent()).toBe(top.site);
      expect(await page.locator('table.hosts tbody td .host').allTextContents()).toEqual(top.hosts);
      expect(await page.locator('.identifier-list code').allTextContents()).toEqual(top.identifiers);
      const verdicts = await page.locator('.verdict-list li').evaluateAll((lis) => lis.map((li) => [li.querySelector('.chip')?.getAttribute('title'), li.querySelector('.num')?.textContent]));
      expect(Object.fromEntries(verdicts)).toEqual(Object.fromEntries(Object.entries(top.verdicts).map(([v, n]) => [v, String(n)])));
      const siteReport = (await (await api(main, `/api/v1/report?from=${encodeURIComponent(report.window.from)}&to=${encodeURIComponent(report.window.to)}&site=${top.site}`)).json()) as ReportJson;
      const bars = await page.locator('svg.timeline rect.bar').evaluateAll((rects) => rects.map((r) => [r.getAttribute('data-bucket'), Number(r.getAttribute('data-violations'))]));
      expect(bars).toEqual(siteReport.timeline.map((t) => [t.bucket, t.violations]));
      expect(await fitsWidth(page)).toBe(true);
      await shot(page, 'site');

      // The hostile long host on its own page.
      await page.goto(`${main.url}/#/site?${new URLSearchParams({ site: HOSTILE.longSite, from: report.window.from, to: report.window.to })}`);
      await page.locator('table.hosts tbody td .host').first().waitFor();
      expect(await page.locator('table.hosts tbody td .host').allTextContents()).toEqual([HOSTILE.longHost]);
      expect(await fitsWidth(page)).toBe(true);
      await shot(page, 'site-long-host');
    });

    it('looks up a number with a reason: the number goes only in the POST body and shows masked', async () => {
      await page.goto(`${main.url}/#/who-saw`);
      await page.locator('#number').fill(LOOKUP.typed);
      await page.locator('#reason').fill(REASON);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/v1/who-saw')),
        page.locator('form.lookup button[type=submit]').click(),
      ]);
      expect(response.status()).toBe(200);
      await page.locator('table.recipients tbody tr').first().waitFor();
      const truth = JSON.parse(await readFile(join(FIXTURE, 'truth/who-saw', `${LOOKUP.e164}.json`), 'utf8')) as WhoSawJson;
      expect(truth.recipients.length).toBeGreaterThan(10);
      expect(await page.locator('[data-subscriber]').textContent()).toBe(truth.subscriber);
      const rows = await page.locator('table.recipients tbody tr').evaluateAll((trs) => trs.map((tr) => [
        tr.querySelector('[data-key="site"] .name')?.textContent, tr.querySelector('[data-key="site"] .sub')?.textContent,
        tr.querySelector('[data-key="verdict"] .chip')?.getAttribute('title'), tr.querySelector('[data-key="requests"]')?.textContent]));
      expect(rows).toEqual(truth.recipients.map((r) => [r.site, r.host, r.verdict, String(r.requests)]));
      expect(await page.locator('#number').inputValue()).toBe('');
      const bodies = watch.bodies.filter((b) => b.replace(/\D/g, '').includes(LOOKUP.digits));
      expect(bodies).toHaveLength(1);
      expect(JSON.parse(bodies[0]!)).toEqual({ number: LOOKUP.typed, reason: REASON });
      expect(watch.urls.filter((u) => u.replace(/\D/g, '').includes(LOOKUP.digits))).toEqual([]);
      expect(await page.evaluate(() => (globalThis as unknown as { location: { href: string } }).location.href)).not.toMatch(/7700\s*923/);
      expect(await page.locator('body').textContent()).not.toContain(LOOKUP.digits);
      expect(await fitsWidth(page)).toBe(true);
      await shot(page, 'who-saw');
    });

    it('shows the audit entry of that lookup, newest first, with no number in it', async () => {
      await page.goto(`${main.url}/#/audit`);
      await page.locator('table.audit tbody tr').first().waitFor();
      const first = page.locator('table.audit tbody tr').first();
      expect(await first.locator('[data-key="actor"] .name').textContent()).toBe('pia.officer');
      expect(await first.locator('[data-key="action"]').textContent()).toBe('who-saw');
      expect(await first.locator('[data-key="reason"]').textContent()).toBe(REASON);
      const truth = JSON.parse(await readFile(join(FIXTURE, 'truth/who-saw', `${LOOKUP.e164}.json`), 'utf8')) as WhoSawJson;
      expect(await first.locator('[data-key="results"]').textContent()).toBe(String(truth.recipients.length));
      expect(await page.locator('table.audit').textContent()).not.toContain(LOOKUP.digits);
      await shot(page, 'audit');
    });

    it('exports the notification list with a reason: the CSV export-affected writes, audited at once', async () => {
      await page.goto(`${main.url}/#/audit`);
      await page.locator('table.audit tbody tr').first().waitFor();
      await page.locator('#affected-from').fill('2012-01-10');
      await page.locator('#affected-to').fill('2012-01-25 14:00');
      await page.locator('#affected-reason').fill('Notification NOT-7 to the ICO');
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#affected-title ~ form button[type=submit]').click()]);
      const saved = await readFile((await download.path())!, 'utf8');
      expect(download.suggestedFilename()).toBe('leakscope-affected-2012-01-10T0000Z-2012-01-25T1400Z.csv');
      expect(saved.split('\r\n')[0]).toBe('msisdn,sites,first_exposure,last_exposure,violations');
      await page.locator('table.audit tbody tr [data-key="action"]', { hasText: 'affected' }).first().waitFor();
      const first = page.locator('table.audit tbody tr').first();
      expect(await first.locator('[data-key="reason"]').textContent()).toBe('Notification NOT-7 to the ICO');
      expect(await first.locator('[data-key="action"]').textContent()).toBe('affected');
      await shot(page, 'audit-export');
      const cliCsv = await cli(['export-affected', '--from', '2012-01-10', '--to', '2012-01-25T14:00Z', '--reason', 'check NOT-7', '--db', db], dir);
      expect([cliCsv.code, saved]).toEqual([0, cliCsv.stdout]);
    });

    it('shows the registry with each partner on the validity timeline, its markup name as text', async () => {
      await page.goto(`${main.url}/#/registry`);
      await page.locator('table.timeline-table tbody tr').first().waitFor();
      const registry = (await (await api(main, '/api/v1/registry')).json()) as { version: string; partners: Array<{ id: string; name: string }> };
      const ids = [...new Set(registry.partners.map((p) => p.id))];
      expect(await page.locator('table.timeline-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-partner')))).toEqual(ids);
      expect(await page.locator('table.timeline-table rect.period').count()).toBe(registry.partners.length);
      expect(await page.locator('[data-figure="Version"]').textContent()).toBe('console-test.1');
      expect(await page.locator('table.partners td').allTextContents()).toContain(HOSTILE.partnerName);
      expect(await page.locator('table.partners td').allTextContents()).toContain('<script>alert(4)</script>');
      expect(await page.locator('.codes code').allTextContents()).toContain(HOSTILE.partnerHeader);
      expect(await page.locator('#app img').count()).toBe(1);
      expect(await fitsWidth(page)).toBe(true);
      await shot(page, 'registry');
    });

    it('says plainly that there are no alerts when serve has no alert source', async () => {
      await page.goto(`${main.url}/#/alerts`);
      await page.locator('[data-state="empty"]').waitFor();
      expect(await page.locator('[data-state="empty"] h2').textContent()).toBe('No alerts');
      await shot(page, 'alerts-empty');
    });

    it('signs out: the session ends, the page returns to sign-in, the old cookie is refused', async () => {
      const before = await context.cookies(main.url);
      await page.goto(`${main.url}/#/report`);
      await page.locator('#sign-out').click();
      await page.locator('#token').waitFor();
      expect(await page.locator('form.sign-in .field-error').textContent()).toBe('You are signed out.');
      expect(await context.cookies(main.url)).toEqual([]);
      const stale = await fetch(`${main.url}/api/v1/report?from=2012-01-01&to=2012-02-01`, { headers: { cookie: `${before[0]!.name}=${before[0]!.value}` } });
      expect(stale.status).toBe(401);
      await page.reload();
      await page.locator('#token').waitFor();
      expect(watch.problems).toEqual([]);
      expect(watch.foreign).toEqual([]);
    });
  });

  describe('a viewer', () => {
    it('sees the report but a clear "not allowed" on who-saw and the audit, without asking the API', async () => {
      const context = await browser.newContext({ viewport: VIEWPORTS[0] });
      const page = await context.newPage();
      const watch = new Watch(page, main.url);
      await signIn(page, main.url, tokens['viewer']!);
      await page.locator('table.sites tbody tr').first().waitFor();
      expect(await page.locator('header.top nav a.locked').allTextContents()).toEqual(['Who saw', 'Audit']);
      for (const [hash, needed] of [['who-saw', 'investigator'], ['audit', 'privacy officer']] as const) {
        await page.goto(`${main.url}/#/${hash}`);
        await page.locator('[data-state="forbidden"]').waitFor();
        expect(await page.locator('[data-state="forbidden"]').textContent()).toContain(`needs the ${needed} role`);
        expect(await page.locator('#number, table.audit').count()).toBe(0);
        await shot(page, `${hash}-viewer`);
      }
      expect(watch.urls.filter((u) => /\/api\/v1\/(who-saw|audit)/.test(u))).toEqual([]);
      expect(watch.problems).toEqual([]);
      expect(watch.foreign).toEqual([]);
      await context.close();
    });
  });

  describe('an empty store with a lookup budget of one, and then no store at all', () => {
    it('shows the empty report, then "try again in N s" on the second lookup', async () => {
      const context = await browser.newContext({ viewport: VIEWPORTS[0] });
      const page = await context.newPage();
      // The browser logs every 429 it receives; that one is the point of this test.
      const watch = new Watch(page, empty.url, [/status of 429/]);
      await signIn(page, empty.url, tokens['investigator']!);
      await page.locator('[data-state="empty"]').waitFor();
      expect(await page.locator('[data-state="empty"] h2').textContent()).toBe('No violations in this window');
      await shot(page, 'report-empty');

      await page.goto(`${empty.url}/#/who-saw`);
      for (let i = 0; i < 2; i++) {
        await page.locator('#number').fill(LOOKUP.typed);
        await page.locator('#reason').fill(REASON);
        await page.locator('form.lookup button[type=submit]').click();
        await page.locator(i === 0 ? '.result [data-state="empty"]' : '[data-state="rate-limited"]').waitFor();
      }
      const limited = await page.locator('[data-state="rate-limited"]').textContent();
      expect(limited).toMatch(/Try again in \d+ s\./);
      expect(await page.locator('form.lookup button[type=submit]').isDisabled()).toBe(true);
      await shot(page, 'who-saw-rate-limited');
      expect(watch.problems).toEqual([]);
      expect(watch.foreign).toEqual([]);
      await context.close();
    });

    it('says the store is unavailable while its file is gone, and recovers with "Try again"', async () => {
      const context = await browser.newContext({ viewport: VIEWPORTS[0] });
      const page = await context.newPage();
      const watch = new Watch(page, empty.url, [/status of 503/]);
      await signIn(page, empty.url, tokens['viewer']!);
      await page.locator('[data-state="empty"]').waitFor();
      await rename(emptyDb, `${emptyDb}.away`);
      try {
        await page.goto(`${empty.url}/#/report?from=2012-01-01T00:00:00.000Z&to=2012-02-01T00:00:00.000Z`);
        await page.locator('[data-state="unavailable"]').waitFor();
        expect(await page.locator('[data-state="unavailable"] h2').textContent()).toBe('The store is unavailable');
        await shot(page, 'report-store-unavailable');
      } finally {
        await rename(`${emptyDb}.away`, emptyDb);
      }
      await page.locator('[data-state="unavailable"] button').click();
      await page.locator('[data-state="empty"]').waitFor();
      expect(watch.problems).toEqual([]);
      expect(watch.foreign).toEqual([]);
      await context.close();
    });
  });
});
