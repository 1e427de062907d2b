// Ground truth from generation knowledge: each disclosing request as the generator built it,
// folded into the exact JSON shapes of `report --format json` and `who-saw --format json`.
import { VERDICT_ORDER, maskSubscriber, type TruthVerdict } from './registry.js';

/** One disclosing request as the generator intends the detector to see it. */
export interface TruthDisclosure {
  request_key: string;
  ts: number;
  file: string;
  line: number;
  host: string;
  site: string;
  /** `+` E.164, or null when only a token was disclosed on a session without a number. */
  subscriber: string | null;
  channels: string[];
  verdict: TruthVerdict;
  partner: string | null;
  case: string | null;
}

export interface ReportJson {
  window: { from: string; to: string };
  totals: { violations: number; subscribers: number; sites: number };
  sites: Array<{
    site: string;
    hosts: string[];
    violations: number;
    subscribers: number;
    first_seen: string;
    last_seen: string;
    identifiers: string[];
    verdicts: Partial<Record<TruthVerdict, number>>;
  }>;
  timeline: Array<{ bucket: string; violations: number }>;
}

export interface WhoSawJson {
  subscriber: string;
  window: { from: string | null; to: string | null };
  recipients: Array<{
    site: string;
    host: string;
    verdict: TruthVerdict;
    partner: string | null;
    requests: number;
    identifiers: string[];
    first_seen: string;
    last_seen: string;
  }>;
}

const iso = (ts: number): string => new Date(ts).toISOString();
const HOUR_MS = 3_600_000;

/** Byte order of ASCII strings, which is what the report contract asks for (README "Command reference"); hosts and sites are ASCII. */
function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface SiteAcc {
  hosts: Set<string>;
  violations: number;
  subscribers: Set<string>;
  first: number;
  last: number;
  identifiers: Set<string>;
  verdicts: Map<TruthVerdict, number>;
}

/** Violations in [from, to) folded into the `report --format json` shape. */
export class ReportAccumulator {
  private readonly sites = new Map<string, SiteAcc>();
  private readonly subscribers = new Set<string>();
  private readonly timeline = new Map<number, number>();
  private violations = 0;

  constructor(readonly from: number, readonly to: number) {}

  add(d: TruthDisclosure): void {
    if (d.verdict === 'authorized' || d.ts < this.from || d.ts >= this.to) return;
    this.violations++;
    if (d.subscriber !== null) this.subscribers.add(d.subscriber);
    let acc = this.sites.get(d.site);
    if (!acc) {
      acc = { hosts: new Set(), violations: 0, subscribers: new Set(), first: d.ts, last: d.ts, identifiers: new Set(), verdicts: new Map() };
      this.sites.set(d.site, acc);
    }
    acc.hosts.add(d.host);
    acc.violations++;
    if (d.subscriber !== null) acc.subscribers.add(d.subscriber);
    acc.first = Math.min(acc.first, d.ts);
    acc.last = Math.max(acc.last, d.ts);
    for (const c of d.channels) acc.identifiers.add(c);
    acc.verdicts.set(d.verdict, (acc.verdicts.get(d.verdict) ?? 0) + 1);
    const bucket = Math.floor(d.ts / HOUR_MS) * HOUR_MS;
    this.timeline.set(bucket, (this.timeline.get(bucket) ?? 0) + 1);
  }

  toJson(): ReportJson {
    const sites = [...this.sites.entries()].map(([site, acc]) => {
      const verdicts: Partial<Record<TruthVerdict, number>> = {};
      for (const v of VERDICT_ORDER) {
        const n = acc.verdicts.get(v);
        if (n) verdicts[v] = n;
      }
      return {
        site,
        hosts: [...acc.hosts].sort(byteCompare),
        violations: acc.violations,
        subscribers: acc.subscribers.size,
        first_seen: iso(acc.first),
        last_seen: iso(acc.last),
        identifiers: [...acc.identifiers].sort(byteCompare),
        verdicts,
      };
    });
    sites.sort((a, b) => b.subscribers - a.subscribers || b.violations - a.violations || byteCompare(a.site, b.site));
    const timeline = [...this.timeline.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([bucket, violations]) => ({ bucket: iso(bucket), violations }));
    return {
      window: { from: iso(this.from), to: iso(this.to) },
      totals: { violations: this.violations, subscribers: this.subscribers.size, sites: sites.length },
      sites,
      timeline,
    };
  }
}

interface RecipientAcc {
  site: string;
  host: string;
  verdict: TruthVerdict;
  partner: string | null;
  requests: number;
  identifiers: Set<string>;
  first: number;
  last: number;
}

/** Every disclosure (authorised ones included) of one subscriber, as `who-saw --format json`. */
export class WhoSawAccumulator {
  private readonly rows = new Map<string, RecipientAcc>();

  constructor(readonly subscriber: string) {}

  add(d: TruthDisclosure): void {
    if (d.subscriber !== this.subscriber) return;
    const key = `${d.host}\u0000${d.verdict}\u0000${d.partner ?? ''}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { site: d.site, host: d.host, verdict: d.verdict, partner: d.partner, requests: 0, identifiers: new Set(), first: d.ts, last: d.ts };
      this.rows.set(key, row);
    }
    row.requests++;
    for (const c of d.channels) row.identifiers.add(c);
    row.first = Math.min(row.first, d.ts);
    row.last = Math.max(row.last, d.ts);
  }

  toJson(): WhoSawJson {
    const rows = [...this.rows.values()].sort(
      (a, b) =>
        a.first - b.first ||
        byteCompare(a.host, b.host) ||
        byteCompare(a.verdict, b.verdict) ||
        byteCompare(a.partner ?? '', b.partner ?? ''),
    );
    return {
      subscriber: maskSubscriber(this.subscriber),
      window: { from: null, to: null },
      recipients: rows.map((r) => ({
        site: r.site,
        host: r.host,
        verdict: r.verdict,
        partner: r.partner,
        requests: r.requests,
        identifiers: [...r.identifiers].sort(byteCompare),
        first_seen: iso(r.first),
        last_seen: iso(r.last),
      })),
    };
  }
}

export interface FileSummary {
  file: string;
  gateway_id: string;
  format: 'ndjson' | 'w3c';
  gzip: boolean;
  line_ending: 'lf' | 'crlf';
  /** Every physical line, directives and rejects included. */
  lines: number;
  requests: number;
  /** W3C `#` lines (directives and comments). */
  directives: number;
  disclosures: number;
  violations: number;
  rejects: number;
  reject_lines: Array<{ line: number; kind: string }>;
  /** Requests the gateway denied (ProxySG TCP_DENIED): lines of the log, never disclosures. */
  not_forwarded: number;
}
