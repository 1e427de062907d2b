// The incident generator (services/demo/incident): deterministic by seed, every tricky case
// present as often as intended, and its ground truth consistent with the logs it wrote and
// with itself. The logs are read back here with a deliberately naive reader of our own.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  CASES,
  LEAK_END,
  LEAK_START,
  VerdictOracle,
  generateIncident,
  incidentRegistry,
  maskSubscriber,
  normalizeHost,
  siteOf,
  type IncidentOptions,
  type IncidentSink,
  type IncidentSummary,
  type ReportJson,
  type TruthDisclosure,
  type WhoSawJson,
} from '../../../services/demo/incident/index.js';
import { DirectorySink, parseArgs } from '../../../services/demo/incident.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/incident');

class MemorySink implements IncidentSink {
  readonly files = new Map<string, string[]>();
  write(path: string, text: string): void {
    const list = this.files.get(path) ?? [];
    list.push(text);
    this.files.set(path, list);
  }
  text(path: string): string {
    return (this.files.get(path) ?? []).join('');
  }
}

async function generate(options: IncidentOptions): Promise<MemorySink> {
  const sink = new MemorySink();
  await generateIncident(options, sink);
  return sink;
}

function readFixture(path: string): string {
  const raw = readFileSync(join(FIXTURE, path));
  return (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

function fixtureJson<T>(path: string): T {
  return JSON.parse(readFixture(path)) as T;
}

// ---- a naive reader of the two log formats, independent of services/sources ----

interface ReadRequest {
  key: string;
  ts: number;
  msisdn: string | null;
  host: string;
  port: number | null;
  path: string;
  query: string;
  /** Lower-case name → value; Host excluded. */
  headers: Map<string, string>;
}

type ReadLine =
  | { kind: 'request'; line: number; request: ReadRequest }
  | { kind: 'directive'; line: number }
  | { kind: 'reject'; line: number }
  | { kind: 'not_forwarded'; line: number };

function splitW3c(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) return null; // unterminated quote
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += line[i++];
      }
      out.push(v);
    } else {
      const end = line.indexOf(' ', i);
      out.push(line.slice(i, end < 0 ? line.length : end));
      i = end < 0 ? line.length : end;
    }
  }
  return out;
}

function readLog(text: string, format: 'ndjson' | 'w3c'): ReadLine[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let fields: string[] = [];
  return lines.map((rawLine, i): ReadLine => {
    const raw = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const line = i + 1;
    if (format === 'w3c') {
      if (raw.startsWith('#')) {
        if (raw.startsWith('#Fields: ')) fields = raw.slice(9).split(' ');
        return { kind: 'directive', line };
      }
      const values = splitW3c(raw);
      if (!values || values.length !== fields.length) return { kind: 'reject', line };
      const v = new Map(fields.map((f, j) => [f, values[j] === '-' ? '' : (values[j] as string)]));
      if (v.get('s-action') === 'TCP_DENIED') return { kind: 'not_forwarded', line };
      const headers = new Map<string, string>();
      for (const [f, value] of v) {
        const m = /^(?:cs|sr)\((.+)\)$/.exec(f);
        if (m && value !== '') headers.set((m[1] as string).toLowerCase(), value);
      }
      return {
        kind: 'request',
        line,
        request: {
          key: v.get('x-request-id') as string,
          ts: Date.parse(`${v.get('date')}T${v.get('time')}Z`),
          msisdn: v.get('x-msisdn') || null,
          host: v.get('cs-host') as string,
          port: v.get('cs-uri-port') === '80' ? null : Number(v.get('cs-uri-port')),
          path: v.get('cs-uri-path') as string,
          query: v.get('cs-uri-query') as string,
          headers,
        },
      };
    }
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return { kind: 'reject', line };
    }
    if (rec['ts'] === undefined) return { kind: 'reject', line };
    const ts = typeof rec['ts'] === 'number' ? rec['ts'] : Date.parse(rec['ts'] as string);
    let host: string, port: number | null, path: string, query: string;
    if (typeof rec['url'] === 'string') {
      const m = /^http:\/\/([^/:]+)(?::(\d+))?([^?]*)(?:\?(.*))?$/.exec(rec['url']) as RegExpExecArray;
      host = m[1] as string;
      port = m[2] ? Number(m[2]) : null;
      path = m[3] as string;
      query = m[4] ?? '';
    } else {
      host = rec['host'] as string;
      port = (rec['port'] as number | undefined) ?? null;
      path = rec['path'] as string;
      query = (rec['query'] as string | undefined) ?? '';
    }
    const headers = new Map<string, string>();
    for (const [name, value] of Object.entries(rec['headers'] as Record<string, string | string[]>)) {
      if (name.toLowerCase() !== 'host') headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
    const msisdn = rec['msisdn'] as string | null;
    return {
      kind: 'request',
      line,
      request: { key: rec['request_id'] as string, ts, msisdn: msisdn ? msisdn.replace(/^\+/, '') : null, host, port, path, query, headers },
    };
  });
}

/** Channels by a naive reading of the README's disclosure rules: identity headers with a value, and the number spelled any usual way. */
function naiveChannels(r: ReadRequest): string[] {
  const identity = ['x-up-calling-line-id', 'x-msisdn', 'x-acr', 'x-network-info', 'x-o2-subscriber'];
  const spellings = r.msisdn ? new Set([r.msisdn, `0${r.msisdn.slice(2)}`, r.msisdn.slice(2)]) : new Set<string>();
  const hasNumber = (text: string): boolean =>
    [...text.matchAll(/\+?\d[\d -]*\d/g)].some((m) => spellings.has(m[0].replace(/[+ -]/g, '')));
  const channels = new Set<string>();
  if (hasNumber(`${r.path}?${r.query}`)) channels.add('url');
  for (const [name, value] of r.headers) {
    const channel = name === 'referer' ? 'referer' : `header:${name}`;
    if (identity.includes(name) || hasNumber(value)) channels.add(channel);
  }
  return [...channels].sort();
}

interface Fixture {
  summary: IncidentSummary;
  requests: Array<ReadRequest & { file: string; line: number }>;
  disclosures: TruthDisclosure[];
  lines: Map<string, ReadLine[]>;
}

function loadData(read: (path: string) => string): Fixture {
  const summary = JSON.parse(read('truth/summary.json')) as IncidentSummary;
  const lines = new Map<string, ReadLine[]>();
  const requests: Fixture['requests'] = [];
  for (const f of summary.files) {
    const parsed = readLog(read(f.file), f.format);
    lines.set(f.file, parsed);
    for (const l of parsed) if (l.kind === 'request') requests.push({ ...l.request, file: f.file, line: l.line });
  }
  const disclosures = read('truth/disclosures.ndjson')
    .trim()
    .split('\n')
    .map((l) => {
      const d = JSON.parse(l) as TruthDisclosure & { ts: string };
      return { ...d, ts: Date.parse(d.ts) } as TruthDisclosure;
    });
  return { summary, requests, disclosures, lines };
}

const fx = loadData(readFixture);

/** Truth channels, subscriber, host and position of every request against a naive reading of the logs. */
function channelMismatches(data: Fixture): string[] {
  const byKey = new Map(data.disclosures.map((d) => [d.request_key, d]));
  const problems: string[] = [];
  if (data.disclosures.length !== data.summary.totals.disclosures) problems.push('disclosure count');
  for (const r of data.requests) {
    const channels = naiveChannels(r);
    const d = byKey.get(r.key);
    if (r.headers.has('x-trace') && channels.length > 0) problems.push(`${r.key}: trap read as a disclosure`);
    if (JSON.stringify(channels) !== JSON.stringify(d?.channels ?? [])) problems.push(`${r.key}: ${channels} vs ${d?.channels}`);
    if (!d) continue;
    const fromHeader = r.headers.get('x-msisdn');
    const subscriber = r.msisdn ? `+${r.msisdn}` : fromHeader ? `+${fromHeader.replace(/^\+/, '')}` : null;
    if (d.subscriber !== subscriber) problems.push(`${r.key}: subscriber ${d.subscriber} vs ${subscriber}`);
    if (d.file !== r.file || d.line !== r.line || d.ts !== r.ts) problems.push(`${r.key}: position or time`);
    if (d.host !== normalizeHost(r.host)) problems.push(`${r.key}: host ${d.host} vs ${r.host}`);
  }
  return problems;
}

describe('incident generator', () => {
  it('gives byte-identical output for the same seed and different output for another seed', async () => {
    const a = await generate({ seed: 'same', requests: 1200 });
    const b = await generate({ seed: 'same', requests: 1200 });
    const c = await generate({ seed: 'other', requests: 1200 });
    expect([...a.files.keys()].sort()).toEqual([...b.files.keys()].sort());
    for (const path of a.files.keys()) expect(a.text(path), path).toBe(b.text(path));
    expect(c.text('logs/gw-lon-01.ndjson')).not.toBe(a.text('logs/gw-lon-01.ndjson'));
  });

  it('regenerates the committed fixture exactly', async () => {
    const s = fx.summary;
    const sink = await generate({ seed: s.seed, requests: s.totals.requests, format: s.format, subscribers: s.subscribers, sites: s.sites });
    for (const path of sink.files.keys()) expect(sink.text(path), `${path} is stale: regenerate test/fixtures/incident`).toBe(readFixture(path));
  });

  it('refuses fewer requests than the tricky cases need', async () => {
    await expect(generate({ seed: 'x', requests: 50 })).rejects.toThrow(/at least/);
  });

  it('writes every log format in every mode, with rejects of the right kinds', async () => {
    for (const format of ['ndjson', 'w3c'] as const) {
      const sink = await generate({ seed: 'fmt', requests: 1000, format });
      const summary = JSON.parse(sink.text('truth/summary.json')) as IncidentSummary;
      expect(summary.files.every((f) => f.format === format)).toBe(true);
      for (const f of summary.files) {
        const read = readLog(sink.text(f.file), f.format);
        expect(read.filter((l) => l.kind === 'reject').map((l) => l.line)).toEqual(f.reject_lines.map((r) => r.line));
        expect(read.filter((l) => l.kind === 'request')).toHaveLength(f.requests);
      }
    }
  });
});

describe('incident fixture: logs', () => {
  it('holds what summary.json says, file by file', () => {
    for (const f of fx.summary.files) {
      const read = fx.lines.get(f.file) as ReadLine[];
      expect(read, f.file).toHaveLength(f.lines);
      expect(read.filter((l) => l.kind === 'request')).toHaveLength(f.requests);
      expect(read.filter((l) => l.kind === 'directive')).toHaveLength(f.directives);
      expect(read.filter((l) => l.kind === 'reject').map((l) => l.line)).toEqual(f.reject_lines.map((r) => r.line));
      expect(f.rejects).toBe(f.reject_lines.length);
      expect(read.filter((l) => l.kind === 'not_forwarded')).toHaveLength(f.not_forwarded);
    }
    const s = fx.summary;
    expect(s.totals.requests).toBe(fx.requests.length);
    expect(s.totals.not_forwarded).toBeGreaterThan(0);
    for (const k of ['lines', 'requests', 'disclosures', 'violations', 'rejects', 'not_forwarded'] as const) {
      expect(s.totals[k]).toBe(s.files.reduce((n, f) => n + f[k], 0));
    }
  });

  it('has NDJSON and gzip and a CRLF W3C file that re-declares #Fields mid-file', () => {
    const w3c = fx.summary.files.find((f) => f.format === 'w3c');
    expect(w3c?.line_ending).toBe('crlf');
    const text = readFixture(w3c?.file as string);
    expect(text.split('\r\n').filter((l) => l.startsWith('#Fields:'))).toHaveLength(2);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    expect(fx.summary.files.some((f) => f.gzip && f.format === 'ndjson')).toBe(true);
    const kinds = fx.summary.files.flatMap((f) => f.reject_lines.map((r) => r.kind));
    for (const k of ['bad_json', 'missing_ts', 'bad_field_count', 'unterminated_quote']) expect(kinds).toContain(k);
    for (const v of Object.values(fx.summary.variations)) expect(v).toBeGreaterThan(0);
  });

  it('has unique request keys, in time order within each file', () => {
    expect(new Set(fx.requests.map((r) => r.key)).size).toBe(fx.requests.length);
    for (const f of fx.summary.files) {
      const ts = fx.requests.filter((r) => r.file === f.file).map((r) => r.ts);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
  });

  const quiet = fx.summary.who_saw.find((s) => fixtureJson<WhoSawJson>(`truth/who-saw/${s}.json`).recipients.length === 0);
  const inLeak = (r: ReadRequest): boolean => r.ts >= LEAK_START && r.ts < LEAK_END;
  const isDigits = (v: string | undefined, re: RegExp): boolean => v !== undefined && re.test(v);
  // Each predicate picks out a case from the log lines alone; ordinary traffic never matches it.
  const predicates: Record<string, (r: ReadRequest) => boolean> = {
    url_query_msisdn: (r) => /^msisdn=4477009\d{5}&/.test(r.query),
    url_path_national: (r) => /^\/u\/077009\d{5}\/profile$/.test(r.path),
    referer_partner_page: (r) => isDigits(r.headers.get('referer'), /verify\?msisdn=4477009\d{5}&/),
    header_spaced_number: (r) => isDigits(r.headers.get('x-debug'), /^\+44 7700-9\d\d \d{3}$/),
    header_composite: (r) => isDigits(r.headers.get('x-network-info'), /^GPRS,,4477009\d{5},unsecured$/),
    cookie_number: (r) => isDigits(r.headers.get('cookie'), /; x-up-calling-line-id=4477009\d{5}$/),
    header_national_no_cc: (r) => isDigits(r.headers.get('x-subscriber-ref'), /^77009\d{5}$/),
    digits_superstring: (r) => isDigits(r.headers.get('x-trace'), /^994477009\d{5}991$/),
    token_wifi_partner: (r) => r.msisdn === null && r.headers.has('x-acr') && r.host.endsWith('.recognise.example'),
    token_wifi_tracker: (r) => r.msisdn === null && r.headers.has('x-acr') && r.host === 't.tracker.example',
    identity_header_no_session: (r) => r.msisdn === null && r.headers.has('x-msisdn'),
    registry_identity_header: (r) => r.headers.has('x-o2-subscriber'),
    lookalike_prefix: (r) => r.host === 'evil-ageverify.example',
    lookalike_suffix: (r) => r.host === 'ageverify.example.evil.net',
    wildcard_apex: (r) => r.host === 'ageverify.example',
    host_uppercase_partner: (r) => r.host === 'WWW.AGEVERIFY.EXAMPLE',
    host_trailing_dot_partner: (r) => r.host === 'api.ageverify.example.',
    host_port_partner: (r) => r.host === 'www.ageverify.example' && r.port === 8080,
    host_mixed_nonpartner: (r) => r.host === 'M.News.CO.UK.' && r.port === 8080,
    idn_partner_unicode_host: (r) => r.host === 'www.bücher.example',
    idn_site: (r) => r.host === 'www.xn--mnchen-3ya.example',
    // The next four share hosts with ordinary traffic: checked on the case's own requests only.
    billing_gap: (r) => r.host === 'pay.billing.example' && r.ts >= Date.UTC(2012, 0, 8) && r.ts < LEAK_START && r.msisdn !== null,
    legacy_after_contract: (r) => r.host === 'portal.legacy.example' && r.ts >= LEAK_END && r.msisdn !== null,
    token_partner_leak: (r) => r.host === 'sso.recognise.example' && inLeak(r) && r.headers.has('x-acr'),
    ip_partner: (r) => r.host === '192.0.2.10' && r.headers.has('x-msisdn'),
    quiet_subscriber: (r) => quiet !== undefined && `+${r.msisdn}` === quiet,
  };
  const sharedHosts = new Set(['billing_gap', 'legacy_after_contract', 'token_partner_leak', 'ip_partner']);
  const cases = fixtureJson<Record<string, { count: number; request_keys: string[] }>>('truth/cases.json');

  it.each(CASES.map((c) => [c.kind, c.count] as const))('has the case %s exactly %i times', (kind, count) => {
    const predicate = predicates[kind] as (r: ReadRequest) => boolean;
    expect(predicate, `no predicate for ${kind}`).toBeTypeOf('function');
    expect(fx.summary.cases[kind]).toBe(count);
    const keys = cases[kind]?.request_keys ?? [];
    expect(keys).toHaveLength(count);
    const byKey = new Map(fx.requests.map((r) => [r.key, r]));
    for (const key of keys) expect(predicate(byKey.get(key) as ReadRequest), `${kind} ${key}`).toBe(true);
    if (!sharedHosts.has(kind)) expect(fx.requests.filter(predicate)).toHaveLength(count);
  });
});

describe('incident fixture: truth', () => {
  it('names as disclosing exactly the requests a naive reading of the logs finds, with the same channels', () => {
    expect(channelMismatches(fx)).toEqual([]);
  });

  it.each(['split', 'ndjson', 'w3c'] as const)('agrees with a naive reading of freshly generated %s logs too', async (format) => {
    const sink = await generate({ seed: `fresh-${format}`, requests: 3000, format });
    expect(channelMismatches(loadData((path) => sink.text(path)))).toEqual([]);
  });

  it('has every verdict, and the ones each partner should get', () => {
    for (const v of ['authorized', 'identifier_not_allowed', 'partner_inactive', 'unauthorized_recipient'] as const) {
      expect(fx.summary.verdicts[v]).toBeGreaterThan(0);
    }
    const verdictsOf = (pred: (d: TruthDisclosure) => boolean): Set<string> => new Set(fx.disclosures.filter(pred).map((d) => d.verdict));
    expect(verdictsOf((d) => d.partner === 'ageverify')).toEqual(new Set(['authorized']));
    expect(verdictsOf((d) => d.partner === 'buecher' || d.partner === 'ipbill')).toEqual(new Set(['authorized']));
    expect(verdictsOf((d) => d.case === 'token_wifi_partner')).toEqual(new Set(['authorized']));
    expect(verdictsOf((d) => d.case === 'token_partner_leak')).toEqual(new Set(['identifier_not_allowed']));
    expect(verdictsOf((d) => d.case === 'billing_gap' || d.case === 'legacy_after_contract')).toEqual(new Set(['partner_inactive']));
    for (const c of ['lookalike_prefix', 'lookalike_suffix', 'wildcard_apex', 'idn_site', 'host_mixed_nonpartner', 'token_wifi_tracker']) {
      expect(verdictsOf((d) => d.case === c), c).toEqual(new Set(['unauthorized_recipient']));
    }
    for (const c of ['host_uppercase_partner', 'host_trailing_dot_partner', 'host_port_partner', 'idn_partner_unicode_host', 'ip_partner']) {
      expect(verdictsOf((d) => d.case === c), c).toEqual(new Set(['authorized']));
    }
    expect(fx.disclosures.filter((d) => d.case === 'token_wifi_partner' || d.case === 'token_wifi_tracker').every((d) => d.subscriber === null)).toBe(true);
    expect(fx.disclosures.some((d) => d.case === 'digits_superstring' || d.case === 'quiet_subscriber')).toBe(false);
  });

  // Recomputed here from disclosures.ndjson with plain array code, then compared whole.
  function expectedReport(from: number, to: number): ReportJson {
    const v = fx.disclosures.filter((d) => d.verdict !== 'authorized' && d.ts >= from && d.ts < to);
    const iso = (t: number): string => new Date(t).toISOString();
    const uniq = (xs: string[]): string[] => [...new Set(xs)].sort();
    const subs = (ds: TruthDisclosure[]): number => new Set(ds.flatMap((d) => (d.subscriber ? [d.subscriber] : []))).size;
    const sites = uniq(v.map((d) => d.site)).map((site) => {
      const ds = v.filter((d) => d.site === site);
      const verdicts: Record<string, number> = {};
      for (const d of ds) verdicts[d.verdict] = (verdicts[d.verdict] ?? 0) + 1;
      return {
        site,
        hosts: uniq(ds.map((d) => d.host)),
        violations: ds.length,
        subscribers: subs(ds),
        first_seen: iso(Math.min(...ds.map((d) => d.ts))),
        last_seen: iso(Math.max(...ds.map((d) => d.ts))),
        identifiers: uniq(ds.flatMap((d) => d.channels)),
        verdicts,
      };
    });
    sites.sort((a, b) => b.subscribers - a.subscribers || b.violations - a.violations || (a.site < b.site ? -1 : 1));
    const buckets = uniq(v.map((d) => iso(d.ts - (d.ts % 3_600_000))));
    return {
      window: { from: iso(from), to: iso(to) },
      totals: { violations: v.length, subscribers: subs(v), sites: sites.length },
      sites,
      timeline: buckets.map((bucket) => ({ bucket, violations: v.filter((d) => iso(d.ts - (d.ts % 3_600_000)) === bucket).length })),
    };
  }

  it.each([
    ['truth/report.json', Date.UTC(2012, 0, 1), Date.UTC(2012, 1, 1)],
    ['truth/report-leak.json', LEAK_START, LEAK_END],
  ])('%s agrees with the disclosures and is ordered as the CLI contract says', (path, from, to) => {
    const report = fixtureJson<ReportJson>(path);
    expect(report).toEqual(expectedReport(from, to));
    expect(report.totals.violations).toBe(report.sites.reduce((n, s) => n + s.violations, 0));
    expect(report.totals.violations).toBe(report.timeline.reduce((n, t) => n + t.violations, 0));
    for (const s of report.sites) {
      expect(Object.values(s.verdicts).reduce((a, b) => a + b, 0)).toBe(s.violations);
      expect(s.verdicts).not.toHaveProperty('authorized');
      expect(s.site).toMatch(/^[\x21-\x7e]+$/);
      expect(s.first_seen <= s.last_seen).toBe(true);
      for (const h of s.hosts) expect(h).toBe(h.toLowerCase());
    }
  });

  it('the leak report covers the window the press reported', () => {
    const leak = fixtureJson<ReportJson>('truth/report-leak.json');
    expect(leak.window).toEqual({ from: '2012-01-10T00:00:00.000Z', to: '2012-01-25T14:00:00.000Z' });
    expect(leak.timeline[0]?.bucket.startsWith('2012-01-10T')).toBe(true);
    expect(leak.timeline.at(-1)?.bucket.startsWith('2012-01-25T13')).toBe(true);
    const sites = leak.sites.map((s) => s.site);
    for (const s of ['xn--mnchen-3ya.example', 'evil.net', 'ageverify.example', 'news.co.uk', 'b.example']) expect(sites).toContain(s);
    expect(sites).not.toContain('xn--bcher-kva.example');
  });

  it.each(fx.summary.who_saw)('who-saw %s lists every disclosure of that subscriber, partners included', (subscriber) => {
    const w = fixtureJson<WhoSawJson>(`truth/who-saw/${subscriber}.json`);
    expect(w.subscriber).toBe(maskSubscriber(subscriber));
    expect(w.window).toEqual({ from: null, to: null });
    const mine = fx.disclosures.filter((d) => d.subscriber === subscriber);
    expect(w.recipients.reduce((n, r) => n + r.requests, 0)).toBe(mine.length);
    const keys = w.recipients.map((r) => `${r.host}|${r.verdict}|${r.partner}`);
    expect(new Set(keys).size).toBe(keys.length);
    const firsts = w.recipients.map((r) => r.first_seen);
    expect(firsts).toEqual([...firsts].sort());
    for (const r of w.recipients) {
      const ds = mine.filter((d) => d.host === r.host && d.verdict === r.verdict && d.partner === r.partner);
      expect(r.requests).toBe(ds.length);
      expect(r.identifiers).toEqual([...new Set(ds.flatMap((d) => d.channels))].sort());
      expect(r.first_seen).toBe(new Date(Math.min(...ds.map((d) => d.ts))).toISOString());
      expect(r.last_seen).toBe(new Date(Math.max(...ds.map((d) => d.ts))).toISOString());
      expect(r.site).toBe(siteOf(r.host));
      expect(r.partner === null).toBe(r.verdict === 'unauthorized_recipient');
    }
  });

  it('includes the example subscriber of the README, with partners and a nobody-saw-me subscriber', () => {
    expect(fx.summary.who_saw).toContain('+447700900123');
    const example = fixtureJson<WhoSawJson>('truth/who-saw/+447700900123.json');
    expect(example.subscriber).toBe('+4477009****23');
    expect(example.recipients.some((r) => r.verdict === 'authorized')).toBe(true);
    expect(fx.summary.who_saw.some((s) => fixtureJson<WhoSawJson>(`truth/who-saw/${s}.json`).recipients.length === 0)).toBe(true);
  });
});

describe('incident oracle and names', () => {
  const oracle = new VerdictOracle(incidentRegistry());
  const at = (iso: string): number => Date.parse(iso);

  it.each([
    ['www.ageverify.example', '2012-01-05T00:00:00Z', ['header:x-up-calling-line-id'], 'authorized', 'ageverify'],
    ['id.m.ageverify.example', '2012-01-05T00:00:00Z', ['header:x-up-calling-line-id'], 'authorized', 'ageverify'],
    ['ageverify.example', '2012-01-05T00:00:00Z', ['header:x-up-calling-line-id'], 'unauthorized_recipient', null],
    ['evil-ageverify.example', '2012-01-05T00:00:00Z', ['header:x-up-calling-line-id'], 'unauthorized_recipient', null],
    ['ageverify.example.evil.net', '2012-01-05T00:00:00Z', ['header:x-up-calling-line-id'], 'unauthorized_recipient', null],
    ['www.ageverify.example', '2012-01-05T00:00:00Z', ['header:x-up-calling-line-id', 'url'], 'identifier_not_allowed', 'ageverify'],
    ['pay.billing.example', '2012-01-07T23:59:59.999Z', ['header:x-msisdn'], 'authorized', 'billing'],
    ['pay.billing.example', '2012-01-08T00:00:00Z', ['header:x-msisdn'], 'partner_inactive', 'billing'],
    ['api.billing.example', '2012-01-20T00:00:00Z', ['header:x-msisdn'], 'authorized', 'billing'],
    ['billing.example', '2012-01-20T00:00:00Z', ['header:x-msisdn'], 'unauthorized_recipient', null],
    ['portal.legacy.example', '2012-01-14T23:59:59.999Z', ['header:x-msisdn'], 'authorized', 'legacyportal'],
    ['portal.legacy.example', '2012-01-15T00:00:00Z', ['header:x-msisdn'], 'partner_inactive', 'legacyportal'],
    ['www.recognise.example', '2012-01-12T00:00:00Z', ['header:x-acr', 'header:x-up-calling-line-id'], 'identifier_not_allowed', 'recognise'],
    ['www.xn--bcher-kva.example', '2012-01-12T00:00:00Z', ['header:x-msisdn'], 'authorized', 'buecher'],
    ['192.0.2.10', '2012-01-12T00:00:00Z', ['header:x-msisdn'], 'authorized', 'ipbill'],
    ['192.0.2.11', '2012-01-12T00:00:00Z', ['header:x-msisdn'], 'unauthorized_recipient', null],
  ] as const)('judges %s at %s on %j as %s', (host, time, channels, verdict, partner) => {
    expect(oracle.judge(host, at(time), channels)).toEqual({ verdict, partner });
  });

  it.each([
    ['WWW.AGEVERIFY.EXAMPLE', 'www.ageverify.example', 'ageverify.example'],
    ['api.ageverify.example.', 'api.ageverify.example', 'ageverify.example'],
    ['www.bücher.example', 'www.xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['cdn.a.b.example', 'cdn.a.b.example', 'b.example'],
    ['M.News.CO.UK.', 'm.news.co.uk', 'news.co.uk'],
    ['198.51.100.7', '198.51.100.7', '198.51.100.7'],
  ])('normalises %s to host %s of site %s', (raw, host, site) => {
    expect(normalizeHost(raw)).toBe(host);
    expect(siteOf(normalizeHost(raw))).toBe(site);
  });

  it('masks a subscriber as + at most 7 leading digits, four stars, the last 2 digits', () => {
    expect(maskSubscriber('+447700900123')).toBe('+4477009****23');
    expect(maskSubscriber('+447700912345')).toBe('+4477009****45');
    expect(maskSubscriber('+4477009001234')).toBe('+4477009****34'); // 13 digits: 4 hidden, still 4 stars
    expect(maskSubscriber('+35850547')).toBe('+358****47');
    expect(maskSubscriber('+12345')).toBe('+12****');
  });

  it('uses subscriber numbers libphonenumber calls possible GB numbers, in every spelling the logs use', () => {
    const subs = new Set(fx.disclosures.flatMap((d) => (d.subscriber ? [d.subscriber] : [])));
    expect(subs.size).toBeGreaterThan(50);
    for (const s of subs) {
      const digits = s.slice(1);
      for (const spelling of [s, digits, `0${digits.slice(2)}`, `+44 ${digits.slice(2, 6)}-${digits.slice(6, 9)} ${digits.slice(9)}`]) {
        const p = parsePhoneNumberFromString(spelling, 'GB');
        expect(p?.isPossible(), spelling).toBe(true);
        expect(p?.number).toBe(s);
      }
    }
  });

  it('writes a registry.yaml that reads back as the oracle registry', () => {
    const yaml = parseYaml(readFixture('registry.yaml')) as unknown;
    expect(yaml).toEqual(incidentRegistry());
  });
});

describe('incident CLI', () => {
  it('streams files to a directory, gzipping .gz paths, with the same content as in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'incident-'));
    try {
      const options = { seed: 'cli', requests: 800 };
      const sink = new DirectorySink(dir);
      await generateIncident(options, sink);
      await sink.close();
      const memory = await generate(options);
      for (const path of memory.files.keys()) {
        const raw = readFileSync(join(dir, path));
        expect((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'), path).toBe(memory.text(path));
      }
      expect(readdirSync(join(dir, 'logs')).sort()).toEqual(['gw-gla-03.ndjson.gz', 'gw-lon-01.ndjson', 'gw-man-02.log']);
      expect(existsSync(join(dir, 'truth/who-saw/+447700900123.json'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses its flags and refuses bad ones', () => {
    expect(parseArgs(['--out', 'x', '--requests', '5000', '--seed', 's', '--format', 'w3c'])).toMatchObject({
      options: { seed: 's', requests: 5000, format: 'w3c' },
    });
    expect(parseArgs(['--requests', '10'])).toMatch(/--out DIR is required/);
    expect(parseArgs(['--out', 'x', '--requests', 'ten'])).toMatch(/--requests: expected a positive integer/);
    expect(parseArgs(['--out', 'x', '--format', 'csv'])).toMatch(/--format/);
    expect(parseArgs(['--out', 'x', '--bogus'])).toMatch(/unknown option/);
  });
});
