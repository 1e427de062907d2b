// Which violations become alerts. Pure: disclosures and the time in, LeakAlert records out.
//
// first_disclosure: the first violation ever seen for a site. "Ever" is remembered in the
// disclosure store: on start the detector seeds the tracker with every site that already has
// a violation there, so a restart or a replay raises nothing new. Alerts are produced before
// the batch is written, so a site in the store always had its alert sent; a crash in between
// sends the alert again with the same deterministic id (at-least-once; a webhook drops repeats).
//
// spread (the incident alert): `spreadSites` sites receiving their first violation within one
// window of `spreadWindowMs` of request time (tumbling windows by event time, so a replay of
// 2012 logs raises the 2012 incident at the 2012 times; one alert per window).
import { createHash } from 'node:crypto';
import type { Disclosure } from '../core/types.js';
import type { AvroLeakAlert } from '../avro/index.js';
import { maskNumber } from '../core/privacy/index.js';

export interface AlertConfig {
  /** Sites with a first violation in one window that make an incident. Default 20. */
  spreadSites: number;
  /** Window of request time for spread, in ms. Default 600 000 (10 minutes). */
  spreadWindowMs: number;
  /** Sites listed in a spread alert (count has the total). Default 50. */
  spreadListLimit: number;
}

export const DEFAULT_ALERT_CONFIG: Readonly<AlertConfig> = Object.freeze({ spreadSites: 20, spreadWindowMs: 600_000, spreadListLimit: 50 });

/** Windows remembered for spread; older ones are forgotten first. */
const WINDOW_MEMORY = 1024;

export function alertId(kind: string, subject: string): string {
  return createHash('sha256').update(`${kind}|${subject}`).digest('hex').slice(0, 32);
}

export interface PendingAlerts {
  alerts: AvroLeakAlert[];
  /** Call once the alerts are acknowledged by Kafka: only then are the sites remembered. */
  commit(): void;
  /** Call when the alerts could not be sent (the batch is abandoned): another batch may raise them. */
  abandon(): void;
}

export class AlertTracker {
  private readonly seen = new Set<string>();
  /** Sites whose first alert is being sent by a batch in process: a concurrent batch does not raise it again. */
  private readonly claimed = new Set<string>();
  private readonly windows = new Map<number, Set<string>>();
  private readonly raisedSpread = new Set<number>();

  constructor(private readonly config: AlertConfig = DEFAULT_ALERT_CONFIG) {}

  /** Sites that already had a violation before this process started. */
  seed(sites: Iterable<string>): void {
    for (const s of sites) this.seen.add(s);
  }

  get knownSites(): number {
    return this.seen.size;
  }

  /** The alerts a batch's disclosures raise; nothing is remembered until commit(). */
  consider(disclosures: readonly Disclosure[], now: number): PendingAlerts {
    const firsts = new Map<string, { first: Disclosure; count: number }>();
    for (const d of disclosures) {
      if (d.verdict === 'authorized' || this.seen.has(d.site) || this.claimed.has(d.site)) continue;
      const f = firsts.get(d.site);
      if (f === undefined) firsts.set(d.site, { first: d, count: 1 });
      else {
        f.count++;
        if (d.ts < f.first.ts) f.first = d;
      }
    }
    if (firsts.size === 0) return { alerts: [], commit: () => undefined, abandon: () => undefined };
    for (const site of firsts.keys()) this.claimed.add(site);

    const alerts: AvroLeakAlert[] = [];
    const windowAdds: Array<[number, string]> = [];
    for (const [site, { first, count }] of firsts) {
      alerts.push({
        id: alertId('first_disclosure', site),
        kind: 'first_disclosure',
        site,
        host: first.host,
        verdict: first.verdict,
        partner_id: first.partnerId,
        channels: [...first.channels],
        subscriber_masked: first.subscriber === null ? null : maskNumber(first.subscriber),
        sites: [],
        first_seen: first.ts,
        count,
        detected_at: now,
        registry_version: first.registryVersion,
      });
      windowAdds.push([Math.floor(first.ts / this.config.spreadWindowMs) * this.config.spreadWindowMs, site]);
    }

    // Spread: what the windows would hold after this batch.
    const touched = new Map<number, Set<string>>();
    for (const [start, site] of windowAdds) {
      let set = touched.get(start);
      if (!set) touched.set(start, (set = new Set(this.windows.get(start) ?? [])));
      set.add(site);
    }
    const raised: number[] = [];
    for (const [start, sites] of touched) {
      if (sites.size < this.config.spreadSites || this.raisedSpread.has(start)) continue;
      raised.push(start);
      const list = [...sites].sort();
      alerts.push({
        id: alertId('spread', String(start)),
        kind: 'spread',
        site: null,
        host: null,
        verdict: null,
        partner_id: null,
        channels: [],
        subscriber_masked: null,
        sites: list.slice(0, this.config.spreadListLimit),
        first_seen: start,
        count: sites.size,
        detected_at: now,
        registry_version: firsts.values().next().value!.first.registryVersion,
      });
    }

    return {
      alerts,
      abandon: () => {
        for (const site of firsts.keys()) this.claimed.delete(site);
      },
      commit: () => {
        for (const site of firsts.keys()) {
          this.claimed.delete(site);
          this.seen.add(site);
        }
        for (const [start, sites] of touched) this.windows.set(start, sites);
        for (const start of raised) this.raisedSpread.add(start);
        while (this.windows.size > WINDOW_MEMORY) this.windows.delete(this.windows.keys().next().value!);
      },
    };
  }
}
