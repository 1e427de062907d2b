// The incident generator: a month of gateway traffic with the O2 UK leak in the middle,
// written hour by hour through a sink (so a billion-byte log never sits in memory), and the
// ground truth folded alongside from what the generator itself put in each request.
import { CASES, totalCaseRequests, type CaseSpec } from './cases.js';
import {
  LEAK_END,
  LEAK_START,
  MONTH_END,
  MONTH_START,
  VERDICT_ORDER,
  VerdictOracle,
  inLeak,
  incidentRegistry,
  normalizeHost,
  registryYaml,
  siteOf,
  type TruthVerdict,
} from './registry.js';
import {
  W3C_REDECLARE_AT,
  renderNdjson,
  renderReject,
  renderW3c,
  w3cPreamble,
  w3cRedeclaration,
  type NdjsonStyle,
  type NdjsonVariant,
} from './render.js';
import { createRng, type Rng } from './rng.js';
import { ReportAccumulator, WhoSawAccumulator, type FileSummary, type ReportJson, type TruthDisclosure, type WhoSawJson } from './truth.js';
import { GATEWAY_IDS, type GatewayId, type GenHeader, type GenRequest, type LogFormatChoice, type RejectEvent, type RejectKind } from './types.js';
import { EXAMPLE_SUBSCRIBER, PARTNER_TARGETS, buildWorld, type PartnerTarget, type Site, type Subscriber, type World } from './world.js';

export interface IncidentOptions {
  /** Any string; the same seed gives byte-identical logs and truth. */
  seed: string;
  /** Requests in total (ordinary traffic plus the tricky cases). Default 300 000. */
  requests?: number;
  /** Default: requests/60, between 200 and 5000. */
  subscribers?: number;
  /** Default: requests/100, between 40 and 3000. */
  sites?: number;
  /** `split` (default): gw-lon-01 and gw-gla-03 (gzip) write NDJSON, gw-man-02 W3C; or all in one format. */
  format?: LogFormatChoice;
  /** Write truth/disclosures.ndjson (one line per disclosing request). Default true. */
  disclosures?: boolean;
}

/** Where output goes: paths are relative to the output directory; a `.gz` path is to be gzipped. */
export interface IncidentSink {
  write(path: string, text: string): void | Promise<void>;
}

export interface IncidentSummary {
  generator: string;
  seed: string;
  format: LogFormatChoice;
  registry: string;
  window: { from: string; to: string };
  leak_window: { from: string; to: string };
  subscribers: number;
  sites: number;
  files: FileSummary[];
  totals: { lines: number; requests: number; disclosures: number; violations: number; rejects: number; not_forwarded: number };
  verdicts: Record<TruthVerdict, number>;
  /** Distinct subscribers with at least one disclosure / violation, whole month. */
  disclosed_subscribers: number;
  violated_subscribers: number;
  cases: Record<string, number>;
  /** NDJSON spelling variations, by kind: how many lines got each. */
  variations: Record<string, number>;
  who_saw: string[];
  reports: { month: string; leak: string };
}

export interface IncidentResult {
  summary: IncidentSummary;
  report: ReportJson;
  reportLeak: ReportJson;
  whoSaw: Map<string, WhoSawJson>;
  /** Request keys of each tricky case, in log order. */
  caseKeys: Record<string, string[]>;
}

const HOUR_MS = 3_600_000;
const GENERATOR = 'leakscope-incident/1';

/** UK traffic by UTC hour (January: UTC = local time). */
const DIURNAL = [0.35, 0.2, 0.12, 0.08, 0.07, 0.1, 0.25, 0.6, 0.9, 0.85, 0.8, 0.85, 1.0, 0.95, 0.85, 0.8, 0.85, 0.95, 1.1, 1.3, 1.4, 1.3, 1.0, 0.6];

const USER_AGENTS = [
  'Mozilla/5.0 (Linux; U; Android 2.3.6; en-gb; GT-I9100 Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 5_0_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Mobile/9A405 Safari/7534.48.3',
  'Opera/9.80 (J2ME/MIDP; Opera Mini/7.0/27.1402; U; en) Presto/2.8.119 Version/11.10',
  'BlackBerry9700/5.0.0.743 Profile/MIDP-2.1 Configuration/CLDC-1.1 VendorID/100',
  'Nokia6300/2.0 (07.21) Profile/MIDP-2.0 Configuration/CLDC-1.1 UP.Browser/6.2.3.3.c.1.101 (GUI) MMP/2.0',
  'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:9.0.1) Gecko/20100101 Firefox/9.0.1',
];
const PAGE_PATHS = ['/', '/news', '/sport', '/weather', '/shop', '/search', '/article', '/video', '/login', '/offers'];
const ASSET_PATHS = ['/static/app.js', '/css/site.css', '/img/logo.png', '/img/hero.jpg', '/ads/banner.gif', '/favicon.ico'];
const PARTNER_PATHS: Record<string, string[]> = {
  ageverify: ['/verify', '/api/check'],
  billing: ['/charge', '/confirm'],
  recognise: ['/login', '/id'],
  legacyportal: ['/home', '/account'],
  buecher: ['/kasse', '/konto'],
  ipbill: ['/bill'],
};

interface FilePlan {
  gatewayId: GatewayId;
  path: string;
  format: 'ndjson' | 'w3c';
  gzip: boolean;
  eol: string;
  ndjsonStyle: NdjsonStyle;
  rejects: Array<[RejectKind, number]>;
  /** Requests the (ProxySG) gateway denies: written with s-action TCP_DENIED. W3C files only. */
  denied: number;
}

function filePlans(format: LogFormatChoice): FilePlan[] {
  const formatOf = (gw: GatewayId): 'ndjson' | 'w3c' =>
    format === 'split' ? (gw === 'gw-man-02' ? 'w3c' : 'ndjson') : format;
  return GATEWAY_IDS.map((gatewayId) => {
    const f = formatOf(gatewayId);
    const gzip = gatewayId === 'gw-gla-03';
    const rejectCounts: [number, number] = gatewayId === 'gw-gla-03' ? [1, 1] : [3, 2];
    return {
      gatewayId,
      path: `logs/${gatewayId}.${f === 'ndjson' ? 'ndjson' : 'log'}${gzip ? '.gz' : ''}`,
      format: f,
      gzip,
      eol: gatewayId === 'gw-man-02' ? '\r\n' : '\n',
      ndjsonStyle: { lowerCaseNames: gatewayId === 'gw-gla-03', plusMsisdn: gatewayId === 'gw-gla-03' },
      rejects: f === 'ndjson'
        ? [['bad_json', rejectCounts[0]], ['missing_ts', rejectCounts[1]]]
        : [['bad_field_count', rejectCounts[0]], ['unterminated_quote', rejectCounts[1]]],
      denied: f === 'w3c' ? (gatewayId === 'gw-man-02' ? 6 : 2) : 0,
    };
  });
}

function ndjsonVariant(seq: number): NdjsonVariant {
  return {
    tsForm: seq % 53 === 7 ? 'epoch_ms' : seq % 71 === 3 ? 'offset' : 'iso',
    hostFields: seq % 41 === 11,
    acceptArray: seq % 13 === 5,
  };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

function pickTime(rng: Rng, spec: CaseSpec): number {
  const total = spec.when.reduce((n, [a, b]) => n + (b - a), 0);
  let t = rng.int(total);
  for (const [a, b] of spec.when) {
    if (t < b - a) return a + t;
    t -= b - a;
  }
  throw new Error('unreachable');
}

/** Largest-remainder split of `total` over weights; deterministic. */
function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / sum) * total);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

type HourEvent = { ts: number; order: number } & (
  | { type: 'request'; req: GenRequest }
  | { type: 'reject'; reject: RejectEvent }
  | { type: 'denied'; req: GenRequest }
);

/** Sites a gateway's policy blocks: the number is added, but the request is denied and never sent. */
const BLOCKED_HOSTS = ['www.casino-royale.example', 'adult.example', 'm.betting.example'];

class Builder {
  constructor(
    private readonly rng: Rng,
    private readonly world: World,
  ) {}

  gateway(): GatewayId {
    const r = this.rng.next();
    return r < 0.45 ? 'gw-lon-01' : r < 0.8 ? 'gw-man-02' : 'gw-gla-03';
  }

  base(ts: number, gatewayId: GatewayId, sub: Subscriber | null, host: string, path: string): GenRequest {
    const rng = this.rng;
    const headers: GenHeader[] = [{ name: 'User-Agent', value: rng.pick(USER_AGENTS), origin: 'cs' }];
    if (rng.chance(0.25)) headers.push({ name: 'Cookie', value: `sid=${rng.letters(12)}; lang=en`, origin: 'cs' });
    const status = rng.chance(0.9) ? 200 : rng.pick([302, 304, 404]);
    return {
      ts,
      gatewayId,
      msisdn: sub ? sub.digits : null,
      bearer: sub ? rng.pick(['3g', '3g', '3g', 'gprs', 'edge', 'hsdpa']) : 'wifi',
      clientIp: sub ? sub.clientIp : `172.16.${rng.int(256)}.${1 + rng.int(254)}`,
      method: 'GET',
      scheme: 'http',
      host,
      port: null,
      path,
      query: '',
      headers,
      status,
      bytes: status === 304 ? 0 : 200 + rng.int(60_000),
      channels: new Set(),
      subscriber: null,
      caseKind: null,
    };
  }

  addHeader(req: GenRequest, name: string, value: string, origin: 'cs' | 'sr', discloses: boolean): void {
    const existing = req.headers.findIndex((h) => h.name.toLowerCase() === name.toLowerCase());
    if (existing >= 0) req.headers.splice(existing, 1);
    req.headers.push({ name, value, origin });
    if (discloses) req.channels.add(name.toLowerCase() === 'referer' ? 'referer' : `header:${name.toLowerCase()}`);
  }

  /**
   * What the gateway adds on a subscriber session: the partner's header for partner hosts (a
   * substring rule for ageverify, as a careless configuration would have it), and during the
   * leak X-UP-Calling-Line-ID on everything.
   */
  enrich(req: GenRequest, sub: Subscriber | null, partner: PartnerTarget | null): void {
    if (!sub) return;
    const lower = req.host.toLowerCase();
    const target = partner ?? (lower.includes('ageverify.example') ? (PARTNER_TARGETS[0] as PartnerTarget) : null);
    if (target) {
      const value = target.header === 'X-ACR' ? sub.acrToken : `${target.plus ? '+' : ''}${sub.digits}`;
      this.addHeader(req, target.header, value, 'sr', true);
    }
    if (inLeak(req.ts) && !req.headers.some((h) => h.name === 'X-UP-Calling-Line-ID')) {
      this.addHeader(req, 'X-UP-Calling-Line-ID', sub.digits, 'sr', true);
    }
  }

  /** One browsing session: a page and its assets on the same site, seconds apart. */
  session(hourStart: number, size: number, out: GenRequest[]): void {
    const rng = this.rng;
    const world = this.world;
    const sub = rng.chance(0.3) ? null : (world.subscribers[world.subscriberPicker.pick(rng)] as Subscriber);
    const gatewayId = this.gateway();
    const partner = rng.chance(0.2) ? (PARTNER_TARGETS[world.partnerPicker.pick(rng)] as PartnerTarget) : null;
    const site: Site | null = partner ? null : (world.sites[world.sitePicker.pick(rng)] as Site);
    const hosts = partner ? partner.hosts : (site as Site).hosts;
    let ts = hourStart + rng.int(HOUR_MS - size * 20_000);
    if (rng.chance(0.05)) ts -= ts % 1000; // some gateways log whole seconds
    let pageUrl: string | null = null;
    for (let i = 0; i < size; i++) {
      if (i > 0) ts += 200 + rng.int(19_800);
      const host = i === 0 ? (hosts[0] as string) : rng.pick(hosts);
      const path = partner
        ? rng.pick(PARTNER_PATHS[partner.id] as string[])
        : i === 0
          ? `${rng.pick(PAGE_PATHS)}${rng.chance(0.5) ? `/item-${rng.int(5000)}` : ''}`
          : rng.pick(ASSET_PATHS);
      const req = this.base(ts, gatewayId, sub, host, path);
      if (partner) {
        req.method = partner.method;
        if (rng.chance(0.5)) req.query = `ref=${rng.letters(6)}`;
      } else if (i === 0 && rng.chance(0.3)) {
        req.query = `id=${rng.int(1000)}&src=${rng.pick(['home', 'feed', 'search'])}`;
      }
      if (pageUrl) this.addHeader(req, 'Referer', pageUrl, 'cs', false);
      if (i === 0) pageUrl = `http://${host}${path}`;
      this.enrich(req, sub, partner);
      out.push(req);
    }
  }

  private subscriberForCase(): Subscriber {
    const world = this.world;
    if (this.rng.chance(0.4)) return world.subscribers[0] as Subscriber;
    let i = world.subscriberPicker.pick(this.rng);
    if (i === world.quietIndex) i = 0;
    return world.subscribers[i] as Subscriber;
  }

  /** One request of a tricky case; see cases.ts for what each should become. */
  caseRequest(kind: string, ts: number): GenRequest {
    const rng = this.rng;
    const gw = this.gateway();
    const sub = this.subscriberForCase();
    const partnerById = (id: string): PartnerTarget => PARTNER_TARGETS.find((p) => p.id === id) as PartnerTarget;
    let req: GenRequest;
    switch (kind) {
      case 'url_query_msisdn':
        req = this.base(ts, gw, sub, 'm.shop.com', '/landing');
        req.query = `msisdn=${sub.digits}&src=ageverify`;
        req.channels.add('url');
        this.addHeader(req, 'Referer', 'http://www.ageverify.example/verify', 'cs', false);
        this.enrich(req, sub, null);
        break;
      case 'url_path_national':
        req = this.base(ts, gw, sub, 'www.social.co.uk', `/u/0${sub.national}/profile`);
        req.channels.add('url');
        this.enrich(req, sub, null);
        break;
      case 'referer_partner_page':
        req = this.base(ts, gw, sub, 't.tracker.example', '/pixel.gif');
        this.addHeader(req, 'Referer', `http://www.ageverify.example/verify?msisdn=${sub.digits}&ok=1`, 'cs', true);
        this.enrich(req, sub, null);
        break;
      case 'header_spaced_number': {
        req = this.base(ts, gw, sub, 'www.news.co.uk', '/weather');
        const n = sub.national;
        this.addHeader(req, 'X-Debug', `+44 ${n.slice(0, 4)}-${n.slice(4, 7)} ${n.slice(7)}`, 'sr', true);
        this.enrich(req, sub, null);
        break;
      }
      case 'header_composite':
        req = this.base(ts, gw, sub, rng.pick(['www.news.co.uk', 'cdn.a.b.example']), '/');
        this.addHeader(req, 'X-Network-Info', `GPRS,,${sub.digits},unsecured`, 'sr', true);
        this.enrich(req, sub, null);
        break;
      case 'cookie_number':
        req = this.base(ts, gw, sub, 'www.shop.com', '/basket');
        this.addHeader(req, 'Cookie', `sid=${rng.letters(12)}; x-up-calling-line-id=${sub.digits}`, 'cs', true);
        this.enrich(req, sub, null);
        break;
      case 'header_national_no_cc':
        req = this.base(ts, gw, sub, 'm.social.co.uk', '/feed');
        this.addHeader(req, 'X-Subscriber-Ref', sub.national, 'sr', true);
        this.enrich(req, sub, null);
        break;
      case 'digits_superstring':
        req = this.base(ts, gw, sub, 'www.news.co.uk', '/sport');
        this.addHeader(req, 'X-Trace', `99${sub.digits}991`, 'sr', false);
        this.enrich(req, sub, null);
        break;
      case 'token_wifi_partner':
      case 'token_wifi_tracker':
        req = this.base(ts, gw, null, kind === 'token_wifi_partner' ? 'www.recognise.example' : 't.tracker.example', '/id');
        this.addHeader(req, 'X-ACR', sub.acrToken, 'sr', true);
        break;
      case 'identity_header_no_session':
        req = this.base(ts, gw, null, 'www.news.co.uk', '/');
        this.addHeader(req, 'X-MSISDN', sub.digits, 'sr', true);
        req.subscriber = sub.digits;
        break;
      case 'registry_identity_header':
        req = this.base(ts, gw, sub, 'www.news.co.uk', '/offers');
        this.addHeader(req, 'X-O2-Subscriber', `o2-${rng.letters(16)}`, 'sr', true);
        this.enrich(req, sub, null);
        break;
      case 'lookalike_prefix':
      case 'lookalike_suffix':
      case 'wildcard_apex': {
        const host = kind === 'lookalike_prefix' ? 'evil-ageverify.example' : kind === 'lookalike_suffix' ? 'ageverify.example.evil.net' : 'ageverify.example';
        req = this.base(ts, gw, sub, host, '/verify');
        this.enrich(req, sub, null); // the gateway's substring rule fires on these hosts
        break;
      }
      case 'host_uppercase_partner':
      case 'host_trailing_dot_partner':
      case 'host_port_partner': {
        const host = kind === 'host_uppercase_partner' ? 'WWW.AGEVERIFY.EXAMPLE' : kind === 'host_trailing_dot_partner' ? 'api.ageverify.example.' : 'www.ageverify.example';
        req = this.base(ts, gw, sub, host, '/verify');
        if (kind === 'host_port_partner') req.port = 8080;
        this.enrich(req, sub, partnerById('ageverify'));
        break;
      }
      case 'host_mixed_nonpartner':
        req = this.base(ts, gw, sub, 'M.News.CO.UK.', '/sport');
        req.port = 8080;
        this.enrich(req, sub, null);
        break;
      case 'idn_partner_unicode_host':
        req = this.base(ts, gw, sub, 'www.bücher.example', '/kasse');
        this.enrich(req, sub, partnerById('buecher'));
        break;
      case 'idn_site':
        req = this.base(ts, gw, sub, 'www.xn--mnchen-3ya.example', '/stadtplan');
        this.enrich(req, sub, null);
        break;
      case 'billing_gap':
        req = this.base(ts, gw, sub, 'pay.billing.example', '/charge');
        req.method = 'POST';
        this.enrich(req, sub, partnerById('billing'));
        break;
      case 'legacy_after_contract':
        req = this.base(ts, gw, sub, 'portal.legacy.example', '/home');
        this.enrich(req, sub, partnerById('legacyportal'));
        break;
      case 'token_partner_leak':
        req = this.base(ts, gw, sub, 'sso.recognise.example', '/login');
        this.enrich(req, sub, partnerById('recognise'));
        break;
      case 'ip_partner':
        req = this.base(ts, gw, sub, '192.0.2.10', '/bill');
        req.method = 'POST';
        this.enrich(req, sub, partnerById('ipbill'));
        break;
      case 'quiet_subscriber': {
        const quiet = this.world.subscribers[this.world.quietIndex] as Subscriber;
        req = this.base(ts, gw, quiet, 'www.news.co.uk', '/news');
        this.enrich(req, quiet, null);
        break;
      }
      default:
        throw new Error(`unknown case ${kind}`);
    }
    req.caseKind = kind;
    return req;
  }
}

function emptyVerdicts(): Record<TruthVerdict, number> {
  return Object.fromEntries(VERDICT_ORDER.map((v) => [v, 0])) as Record<TruthVerdict, number>;
}

export async function generateIncident(options: IncidentOptions, sink: IncidentSink): Promise<IncidentResult> {
  const requests = options.requests ?? 300_000;
  const caseTotal = totalCaseRequests();
  if (!Number.isInteger(requests) || requests < caseTotal + 100) {
    throw new Error(`--requests must be an integer of at least ${caseTotal + 100} (the tricky cases alone are ${caseTotal})`);
  }
  const format = options.format ?? 'split';
  const subscriberCount = options.subscribers ?? clamp(Math.round(requests / 60), 200, 5000);
  const siteCount = options.sites ?? clamp(Math.round(requests / 100), 40, 3000);
  const writeDisclosures = options.disclosures ?? true;

  const rng = createRng(`${GENERATOR}:${options.seed}`);
  const world = buildWorld(rng, subscriberCount, siteCount);
  const registry = incidentRegistry();
  const oracle = new VerdictOracle(registry);
  const builder = new Builder(rng, world);
  const plans = filePlans(format);

  // ---- schedule: tricky cases and broken lines at fixed counts, the rest by hour weight ----
  const hours = (MONTH_END - MONTH_START) / HOUR_MS;
  const casesByHour = new Map<number, Array<{ kind: string; ts: number }>>();
  for (const spec of CASES) {
    for (let i = 0; i < spec.count; i++) {
      const ts = pickTime(rng, spec);
      const h = Math.floor((ts - MONTH_START) / HOUR_MS);
      const list = casesByHour.get(h) ?? [];
      list.push({ kind: spec.kind, ts });
      casesByHour.set(h, list);
    }
  }
  const rejectsByHour = new Map<number, RejectEvent[]>();
  for (const plan of plans) {
    for (const [kind, count] of plan.rejects) {
      for (let i = 0; i < count; i++) {
        const ts = MONTH_START + rng.int(MONTH_END - MONTH_START);
        const h = Math.floor((ts - MONTH_START) / HOUR_MS);
        const list = rejectsByHour.get(h) ?? [];
        list.push({ ts, gatewayId: plan.gatewayId, kind });
        rejectsByHour.set(h, list);
      }
    }
  }
  // Denied requests draw from their own stream, so that adding them left the rest of the
  // traffic (and every truth built from it) as it was.
  const deniedRng = createRng(`${GENERATOR}:${options.seed}:denied`);
  const deniedByHour = new Map<number, Array<{ ts: number; gatewayId: GatewayId }>>();
  for (const plan of plans) {
    for (let i = 0; i < plan.denied; i++) {
      const ts = MONTH_START + deniedRng.int(MONTH_END - MONTH_START);
      const h = Math.floor((ts - MONTH_START) / HOUR_MS);
      const list = deniedByHour.get(h) ?? [];
      list.push({ ts, gatewayId: plan.gatewayId });
      deniedByHour.set(h, list);
    }
  }
  /** A request the gateway enriched and then denied by policy: a trap for a reader that ignores s-action. */
  const deniedRequest = (ts: number, gatewayId: GatewayId): GenRequest => {
    let index = deniedRng.int(world.subscribers.length);
    if (index === world.quietIndex) index = world.busiestIndex;
    const sub = world.subscribers[index] as Subscriber;
    return {
      ts, gatewayId, msisdn: sub.digits, bearer: '3g', clientIp: sub.clientIp, method: 'GET', scheme: 'http',
      host: deniedRng.pick(BLOCKED_HOSTS), port: null, path: '/', query: '', status: 403, bytes: 980, action: 'TCP_DENIED',
      headers: [
        { name: 'User-Agent', value: deniedRng.pick(USER_AGENTS), origin: 'cs' },
        { name: 'X-UP-Calling-Line-ID', value: sub.digits, origin: 'sr' },
      ],
      channels: new Set(), subscriber: null, caseKind: null,
    };
  };
  const burstHours = new Set<number>();
  while (burstHours.size < 10) burstHours.add(rng.int(hours));
  const weights: number[] = [];
  for (let h = 0; h < hours; h++) {
    const start = MONTH_START + h * HOUR_MS;
    let w = DIURNAL[h % 24] as number;
    if (burstHours.has(h)) w *= 4;
    // 25 Jan: the story breaks and people go and look at header-echo pages.
    if (start >= Date.UTC(2012, 0, 25, 10) && start < LEAK_END) w *= 2.5;
    weights.push(w);
  }
  const perHour = allocate(requests - caseTotal, weights);

  // ---- state ----
  const files = new Map<GatewayId, FileSummary & { plan: FilePlan; seq: number; layoutB: boolean }>();
  for (const plan of plans) {
    files.set(plan.gatewayId, {
      plan, seq: 0, layoutB: false,
      file: plan.path, gateway_id: plan.gatewayId, format: plan.format, gzip: plan.gzip,
      line_ending: plan.eol === '\r\n' ? 'crlf' : 'lf',
      lines: 0, requests: 0, directives: 0, disclosures: 0, violations: 0, rejects: 0, reject_lines: [], not_forwarded: 0,
    });
  }
  const monthReport = new ReportAccumulator(MONTH_START, MONTH_END);
  const leakReport = new ReportAccumulator(LEAK_START, LEAK_END);
  const whoSawSubscribers = [
    EXAMPLE_SUBSCRIBER,
    (world.subscribers[world.busiestIndex] as Subscriber).digits,
    (world.subscribers[Math.floor(subscriberCount / 2)] as Subscriber).digits,
    (world.subscribers[world.quietIndex] as Subscriber).digits,
  ].filter((d, i, all) => all.indexOf(d) === i).map((d) => `+${d}`);
  const whoSaw = new Map(whoSawSubscribers.map((s) => [s, new WhoSawAccumulator(s)]));
  const verdicts = emptyVerdicts();
  const disclosed = new Set<string>();
  const violated = new Set<string>();
  const caseCounts: Record<string, number> = Object.fromEntries(CASES.map((c) => [c.kind, 0]));
  const caseKeys: Record<string, string[]> = Object.fromEntries(CASES.map((c) => [c.kind, []]));
  const variations: Record<string, number> = { ts_epoch_ms: 0, ts_offset: 0, host_fields: 0, accept_array: 0 };
  const hostCache = new Map<string, { host: string; site: string }>();

  await sink.write('registry.yaml', registryYaml(registry));
  for (const f of files.values()) {
    if (f.plan.format === 'w3c') {
      const pre = w3cPreamble(f.gateway_id);
      f.lines += pre.length;
      f.directives += pre.length;
      await sink.write(f.file, pre.map((l) => l + f.plan.eol).join(''));
    }
  }

  for (let h = 0; h < hours; h++) {
    const hourStart = MONTH_START + h * HOUR_MS;
    const generated: GenRequest[] = [];
    let remaining = perHour[h] as number;
    while (remaining > 0) {
      let size = 1;
      while (size < 8 && rng.chance(0.55)) size++;
      size = Math.min(size, remaining);
      builder.session(hourStart, size, generated);
      remaining -= size;
    }
    const events: HourEvent[] = generated.map((req, order) => ({ ts: req.ts, order, type: 'request', req }));
    for (const c of casesByHour.get(h) ?? []) {
      const req = builder.caseRequest(c.kind, c.ts);
      events.push({ ts: req.ts, order: events.length, type: 'request', req });
    }
    for (const r of rejectsByHour.get(h) ?? []) events.push({ ts: r.ts, order: events.length, type: 'reject', reject: r });
    for (const d of deniedByHour.get(h) ?? []) events.push({ ts: d.ts, order: events.length, type: 'denied', req: deniedRequest(d.ts, d.gatewayId) });
    events.sort((a, b) => a.ts - b.ts || a.order - b.order);

    const chunks = new Map<string, string[]>();
    const out = (path: string, line: string): void => {
      const list = chunks.get(path) ?? [];
      list.push(line);
      chunks.set(path, list);
    };
    for (const ev of events) {
      const gw = ev.type === 'reject' ? ev.reject.gatewayId : ev.req.gatewayId;
      const f = files.get(gw) as FileSummary & { plan: FilePlan; seq: number; layoutB: boolean };
      const eol = f.plan.eol;
      if (f.plan.format === 'w3c' && !f.layoutB && ev.ts >= W3C_REDECLARE_AT) {
        f.layoutB = true;
        for (const l of w3cRedeclaration()) {
          f.lines++;
          f.directives++;
          out(f.file, l + eol);
        }
      }
      f.seq++;
      f.lines++;
      if (ev.type === 'reject') {
        f.rejects++;
        f.reject_lines.push({ line: f.lines, kind: ev.reject.kind });
        out(f.file, renderReject(ev.reject.kind, ev.ts, gw, f.seq) + eol);
        continue;
      }
      if (ev.type === 'denied') {
        f.not_forwarded++;
        out(f.file, renderW3c(ev.req, `${gw}:${f.seq}`, f.layoutB ? 'B' : 'A') + eol);
        continue;
      }
      const req = ev.req;
      const requestId = `${gw}:${f.seq}`;
      f.requests++;
      if (f.plan.format === 'ndjson') {
        const variant = ndjsonVariant(f.seq);
        if (variant.tsForm === 'epoch_ms') variations['ts_epoch_ms']!++;
        if (variant.tsForm === 'offset') variations['ts_offset']!++;
        if (variant.hostFields) variations['host_fields']!++;
        if (variant.acceptArray) variations['accept_array']!++;
        out(f.file, renderNdjson(req, requestId, f.plan.ndjsonStyle, variant) + eol);
      } else {
        out(f.file, renderW3c(req, requestId, f.layoutB ? 'B' : 'A') + eol);
      }
      if (req.caseKind) {
        caseCounts[req.caseKind]!++;
        caseKeys[req.caseKind]!.push(requestId);
      }
      if (req.channels.size === 0) continue;

      // ---- truth for a disclosing request ----
      let names = hostCache.get(req.host);
      if (!names) {
        const host = normalizeHost(req.host);
        names = { host, site: siteOf(host) };
        hostCache.set(req.host, names);
      }
      const channels = [...req.channels].sort();
      const subscriberDigits = req.msisdn ?? req.subscriber;
      const subscriber = subscriberDigits === null ? null : `+${subscriberDigits}`;
      const { verdict, partner } = oracle.judge(names.host, req.ts, channels);
      const d: TruthDisclosure = {
        request_key: requestId, ts: req.ts, file: f.file, line: f.lines,
        host: names.host, site: names.site, subscriber, channels, verdict, partner, case: req.caseKind,
      };
      f.disclosures++;
      verdicts[verdict]++;
      if (subscriber) disclosed.add(subscriber);
      if (verdict !== 'authorized') {
        f.violations++;
        if (subscriber) violated.add(subscriber);
      }
      monthReport.add(d);
      leakReport.add(d);
      if (subscriber) whoSaw.get(subscriber)?.add(d);
      if (writeDisclosures) out('truth/disclosures.ndjson', `${JSON.stringify({ ...d, ts: new Date(d.ts).toISOString() })}\n`);
    }
    for (const [path, lines] of chunks) await sink.write(path, lines.join(''));
  }

  for (const spec of CASES) {
    if (caseCounts[spec.kind] !== spec.count) throw new Error(`case ${spec.kind}: built ${caseCounts[spec.kind]}, meant ${spec.count}`);
  }
  const fileSummaries: FileSummary[] = [...files.values()].map(({ plan: _plan, seq: _seq, layoutB: _b, ...rest }) => rest);
  const sum = (k: 'lines' | 'requests' | 'disclosures' | 'violations' | 'rejects' | 'not_forwarded'): number =>
    fileSummaries.reduce((n, f) => n + f[k], 0);
  const iso = (t: number): string => new Date(t).toISOString();
  const summary: IncidentSummary = {
    generator: GENERATOR,
    seed: options.seed,
    format,
    registry: 'registry.yaml',
    window: { from: iso(MONTH_START), to: iso(MONTH_END) },
    leak_window: { from: iso(LEAK_START), to: iso(LEAK_END) },
    subscribers: subscriberCount,
    sites: world.sites.length,
    files: fileSummaries,
    totals: { lines: sum('lines'), requests: sum('requests'), disclosures: sum('disclosures'), violations: sum('violations'), rejects: sum('rejects'), not_forwarded: sum('not_forwarded') },
    verdicts,
    disclosed_subscribers: disclosed.size,
    violated_subscribers: violated.size,
    cases: caseCounts,
    variations,
    who_saw: whoSawSubscribers,
    reports: { month: 'truth/report.json', leak: 'truth/report-leak.json' },
  };
  const result: IncidentResult = {
    summary,
    report: monthReport.toJson(),
    reportLeak: leakReport.toJson(),
    whoSaw: new Map([...whoSaw].map(([s, acc]) => [s, acc.toJson()])),
    caseKeys,
  };
  const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  await sink.write('truth/summary.json', json(summary));
  await sink.write('truth/report.json', json(result.report));
  await sink.write('truth/report-leak.json', json(result.reportLeak));
  for (const [s, w] of result.whoSaw) await sink.write(`truth/who-saw/${s}.json`, json(w));
  await sink.write('truth/cases.json', json(Object.fromEntries(CASES.map((c) => [c.kind, { count: c.count, description: c.description, request_keys: caseKeys[c.kind] }]))));
  return result;
}
