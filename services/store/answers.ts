// The contract JSON of `report` and `who-saw` (README "Command reference"), built from a store's
// aggregates. Ordering and formatting live here, once, so DuckDB and ClickHouse answers
// are identical byte for byte.
import type { Channel, Verdict } from '../core/types.js';
import type { RecipientAggregate, ReportAggregates, SiteAggregate, Window } from './types.js';

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
    identifiers: Channel[];
    verdicts: Partial<Record<Verdict, number>>;
  }>;
  timeline: Array<{ bucket: string; violations: number }>;
}

export interface WhoSawJson {
  subscriber: string;
  window: { from: string | null; to: string | null };
  recipients: Array<{
    site: string;
    host: string;
    verdict: Verdict;
    partner: string | null;
    requests: number;
    identifiers: Channel[];
    first_seen: string;
    last_seen: string;
  }>;
}

const DAY_MS = 86_400_000;
/** 9999-12-31T23:59:59.999Z: the last time toISOString writes with a four-digit year. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** 'YYYY-MM-DDT' of recent days; bounded, emptied when full. */
const dayPrefixes = new Map<number, string>();

/**
 * `new Date(ms).toISOString()`, the same text, about ten times cheaper: a who-saw answer
 * writes two times per recipient. The date part of a day is made once by toISOString and
 * kept; the time of day is put together from tables. Times outside 1970–9999 or not whole
 * milliseconds go to toISOString.
 */
export function iso(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_FOUR_DIGIT_YEAR_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= 4_096) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const second = rest % 60;
  rest = (rest - second) / 60;
  const minute = rest % 60;
  const hour = (rest - minute) / 60;
  return `${prefix}${TWO[hour]!}:${TWO[minute]!}:${TWO[second]!}.${THREE[milli]!}Z`;
}

/** Byte order of the UTF-8 encodings; for the ASCII hosts and sites we store it is code-unit order. */
export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedDistinct<T extends string>(values: readonly T[]): T[] {
  return [...new Set(values)].sort(byteCompare);
}

function siteOrder(a: SiteAggregate, b: SiteAggregate): number {
  return b.subscribers - a.subscribers || b.violations - a.violations || byteCompare(a.site, b.site);
}

export function buildReport(window: { from: number; to: number }, aggregates: ReportAggregates): ReportJson {
  return {
    window: { from: iso(window.from), to: iso(window.to) },
    totals: { ...aggregates.totals },
    sites: [...aggregates.sites].sort(siteOrder).map((s) => ({
      site: s.site,
      hosts: sortedDistinct(s.hosts),
      violations: s.violations,
      subscribers: s.subscribers,
      first_seen: iso(s.firstSeen),
      last_seen: iso(s.lastSeen),
      identifiers: sortedDistinct(s.identifiers),
      verdicts: Object.fromEntries(
        Object.entries(s.verdicts).filter(([, n]) => (n ?? 0) > 0).sort(([a], [b]) => byteCompare(a, b)),
      ) as Partial<Record<Verdict, number>>,
    })),
    timeline: [...aggregates.timeline]
      .filter((b) => b.violations > 0)
      .sort((a, b) => a.bucket - b.bucket)
      .map((b) => ({ bucket: iso(b.bucket), violations: b.violations })),
  };
}

function recipientOrder(a: RecipientAggregate, b: RecipientAggregate): number {
  return a.firstSeen - b.firstSeen || byteCompare(a.host, b.host) || byteCompare(a.verdict, b.verdict)
    || byteCompare(a.partnerId ?? '', b.partnerId ?? '');
}

export function buildWhoSaw(subscriberMasked: string, window: Window, recipients: readonly RecipientAggregate[]): WhoSawJson {
  return {
    subscriber: subscriberMasked,
    window: { from: window.from === null ? null : iso(window.from), to: window.to === null ? null : iso(window.to) },
    recipients: [...recipients].sort(recipientOrder).map((r) => ({
      site: r.site,
      host: r.host,
      verdict: r.verdict,
      partner: r.partnerId,
      requests: r.requests,
      identifiers: sortedDistinct(r.identifiers),
      first_seen: iso(r.firstSeen),
      last_seen: iso(r.lastSeen),
    })),
  };
}
