// Which violations become alerts. Pure: disclosures and the time in, LeakAlert records out.
// The kinds, their ids and how an incident resolves are documented in docs/alerts.md.
//
// first_disclosure: the first violation ever seen for a site. partner_drift: the first time a
// valid partner receives a set of channels it may not (identifier_not_allowed), per partner
// and channel set. partner_inactive: the first violation of a partner outside its validity,
// per partner. "Ever" is remembered in the disclosure store: on start the detector seeds the
// tracker with what the store already holds, so a restart or a replay raises nothing new.
// Alerts are produced before the batch is written, so what the store holds always had its
// alert sent; a crash in between sends it again with the same id (at least once).
//
// spread (the incident): `spreadSites` sites receiving their first violation within one
// tumbling window of `spreadWindowMs` of request time opens an incident (id from that
// window's start, so a replay raises the same incident). While it is open, new sites join it
// and raise no second incident. It resolves when no new violating site has appeared for
// `spreadQuietMs` of request time, as far as the disclosures seen show (the watermark); the
// resolution is a second alert (status resolved, `resolves` = the incident's id).
import { createHash } from 'node:crypto';
import type { AlertKind, AvroLeakAlert } from '../avro/index.js';
import type { StoredDisclosure } from '../store/types.js';

/** What the tracker reads of a disclosure: as stored (the number only masked), from the detector and from watch alike. */
export type AlertSource = Pick<StoredDisclosure, 'ts' | 'site' | 'host' | 'verdict' | 'partnerId' | 'channels' | 'subscriberMasked' | 'registryVersion'>;
type Disclosure = AlertSource;

export interface AlertConfig {
  /** Sites with a first violation in one window that make an incident. Default 20. */
  spreadSites: number;
  /** Window of request time for spread, in ms. Default 600 000 (10 minutes). */
  spreadWindowMs: number;
  /** Sites listed in a spread alert (count has the total). Default 50. */
  spreadListLimit: number;
  /** An open incident resolves after this much request time with no new violating site. Default 3 600 000 (1 hour). */
  spreadQuietMs: number;
}

export const DEFAULT_ALERT_CONFIG: Readonly<AlertConfig> = Object.freeze({ spreadSites: 20, spreadWindowMs: 600_000, spreadListLimit: 50, spreadQuietMs: 3_600_000 });

/** Windows remembered for spread; older ones are forgotten first. */
const WINDOW_MEMORY = 1024;

export function alertId(kind: string, subject: string): string {
  return createHash('sha256').update(`${kind}|${subject}`).digest('hex').slice(0, 32);
}

/** What makes an alert of a first-time kind unique: its id is alertId(kind, subject). */
export function alertSubject(kind: Exclude<AlertKind, 'spread'>, d: Pick<AlertSource, 'site' | 'partnerId' | 'channels'>): string {
  switch (kind) {
    case 'first_disclosure': return d.site;
    case 'partner_drift': return `${d.partnerId ?? ''}|${[...d.channels].sort().join(',')}`;
    case 'partner_inactive': return d.partnerId ?? '';
  }
}

/** The first-time kinds a violation may raise (first_disclosure always; a partner kind by verdict). */
function kindsOf(d: Disclosure): Array<Exclude<AlertKind, 'spread'>> {
  if (d.verdict === 'identifier_not_allowed' && d.partnerId !== null) return ['first_disclosure', 'partner_drift'];
  if (d.verdict === 'partner_inactive' && d.partnerId !== null) return ['first_disclosure', 'partner_inactive'];
  return ['first_disclosure'];
}

export interface PendingAlerts {
  alerts: AvroLeakAlert[];
  /** Call once the alerts are acknowledged by Kafka: only then are they remembered as sent. */
  commit(): void;
  /** Call when the alerts could not be sent (the batch is abandoned): they are raised again later. */
  abandon(): void;
}

interface Incident {
  start: number;
  sites: Set<string>;
  lastNewTs: number;
  registryVersion: string;
}

export class AlertTracker {
  /** `kind|subject` of every first-time alert sent (or seeded from the store). */
  private readonly seen = new Set<string>();
  /** Keys whose alert is being sent by a batch in process: a concurrent batch does not raise it again. */
  private readonly claimed = new Set<string>();
  private readonly windows = new Map<number, Set<string>>();
  /** Earliest violation seen per site counted in a window (seeded sites have none). */
  private readonly firstSeenOf = new Map<string, number>();
  private readonly openedSpread = new Set<number>();
  private incident: Incident | null = null;
  private watermark = Number.NEGATIVE_INFINITY;
  /** Incident alerts of an abandoned batch: the state moved on, so they are sent with the next batch. */
  private owed: AvroLeakAlert[] = [];
  private readonly config: AlertConfig;

  constructor(config: Partial<AlertConfig> = {}) {
    this.config = { ...DEFAULT_ALERT_CONFIG, ...config };
  }

  /** Sites that already had a violation before this process started. */
  seed(sites: Iterable<string>): void {
    for (const s of sites) this.seen.add(`first_disclosure|${s}`);
  }

  /** Alerts already raised before this process started (from the store): their subjects raise nothing again. */
  seedAlerts(alerts: Iterable<Pick<AvroLeakAlert, 'kind' | 'site' | 'partner_id' | 'channels'>>): void {
    for (const a of alerts) {
      if (a.kind === 'spread') continue;
      this.seen.add(`${a.kind}|${alertSubject(a.kind, { site: a.site ?? '', partnerId: a.partner_id, channels: a.channels })}`);
    }
  }

  get knownSites(): number {
    let n = 0;
    for (const k of this.seen) if (k.startsWith('first_disclosure|')) n++;
    return n;
  }

  /** Whether an incident is open (raised and not yet resolved). */
  get incidentOpen(): boolean {
    return this.incident !== null;
  }

  /**
   * The alerts a batch's disclosures raise (authorised ones only move request time on). `now` is
   * detected_at; `watermark` is the latest request time of the batch when known otherwise.
   * First-time alerts are remembered at commit(); the incident state moves on at once (an
   * abandoned batch's incident alerts are owed to the next batch).
   */
  consider(disclosures: readonly Disclosure[], now: number, watermark = Number.NEGATIVE_INFINITY): PendingAlerts {
    const firsts = new Map<string, { kind: Exclude<AlertKind, 'spread'>; first: Disclosure; count: number }>();
    let batchMaxTs = Number.NEGATIVE_INFINITY;
    for (const d of disclosures) {
      if (d.ts > batchMaxTs) batchMaxTs = d.ts;
      if (d.verdict === 'authorized') continue;
      for (const kind of kindsOf(d)) {
        const key = `${kind}|${alertSubject(kind, d)}`;
        if (this.seen.has(key) || this.claimed.has(key)) continue;
        const f = firsts.get(key);
        if (f === undefined) firsts.set(key, { kind, first: d, count: 1 });
        else {
          f.count++;
          if (d.ts < f.first.ts) f.first = d;
        }
      }
    }
    for (const key of firsts.keys()) this.claimed.add(key);

    const alerts: AvroLeakAlert[] = this.owed;
    this.owed = [];
    const siteEvents = new Map<string, Disclosure>();
    for (const { kind, first, count } of firsts.values()) {
      alerts.push(firstTimeAlert(kind, first, count, now));
      if (kind === 'first_disclosure') siteEvents.set(first.site, first);
    }
    // A site already counted in a window, seen now earlier than before (partitions replayed one
    // after another arrive out of request-time order): it moves to its earlier window.
    for (const d of disclosures) {
      if (d.verdict === 'authorized' || siteEvents.has(d.site)) continue;
      const known = this.firstSeenOf.get(d.site);
      if (known !== undefined && d.ts < known) {
        const e = siteEvents.get(d.site);
        if (e === undefined || d.ts < e.ts) siteEvents.set(d.site, d);
      }
    }
    const incidentAlerts = this.advanceIncident([...siteEvents.values()], Math.max(watermark, batchMaxTs), now);
    alerts.push(...incidentAlerts);

    return {
      alerts,
      abandon: () => {
        for (const key of firsts.keys()) this.claimed.delete(key);
        this.owed.push(...incidentAlerts);
      },
      commit: () => {
        for (const key of firsts.keys()) {
          this.claimed.delete(key);
          this.seen.add(key);
        }
      },
    };
  }

  /** New (or earlier-seen) sites in request-time order: each may resolve the open incident, join it, or open one. */
  private advanceIncident(newSites: Disclosure[], watermark: number, now: number): AvroLeakAlert[] {
    const { spreadWindowMs, spreadSites, spreadQuietMs } = this.config;
    const out: AvroLeakAlert[] = [];
    newSites.sort((a, b) => a.ts - b.ts || (a.site < b.site ? -1 : 1));
    for (const d of newSites) {
      const start = Math.floor(d.ts / spreadWindowMs) * spreadWindowMs;
      const before = this.firstSeenOf.get(d.site);
      if (before !== undefined) this.windows.get(Math.floor(before / spreadWindowMs) * spreadWindowMs)?.delete(d.site);
      this.firstSeenOf.set(d.site, d.ts);
      let window = this.windows.get(start);
      if (!window) this.windows.set(start, (window = new Set()));
      window.add(d.site);
      if (this.incident !== null && d.ts >= this.incident.lastNewTs + spreadQuietMs) out.push(this.resolve(now));
      if (this.incident !== null) {
        this.incident.sites.add(d.site);
        if (d.ts > this.incident.lastNewTs) this.incident.lastNewTs = d.ts;
        continue;
      }
      if (window.size >= spreadSites && !this.openedSpread.has(start)) {
        this.openedSpread.add(start);
        this.incident = { start, sites: new Set(window), lastNewTs: d.ts, registryVersion: d.registryVersion };
        out.push(this.incidentAlert('firing', now));
      }
    }
    while (this.windows.size > WINDOW_MEMORY) {
      const [oldest, forgotten] = this.windows.entries().next().value!;
      this.windows.delete(oldest);
      for (const site of forgotten) this.firstSeenOf.delete(site);
    }
    if (watermark > this.watermark) this.watermark = watermark;
    if (this.incident !== null && this.watermark >= this.incident.lastNewTs + spreadQuietMs) out.push(this.resolve(now));
    return out;
  }

  private resolve(now: number): AvroLeakAlert {
    const alert = this.incidentAlert('resolved', now);
    this.incident = null;
    return alert;
  }

  private incidentAlert(status: 'firing' | 'resolved', now: number): AvroLeakAlert {
    const inc = this.incident!;
    const firingId = alertId('spread', String(inc.start));
    return {
      id: status === 'firing' ? firingId : alertId('spread.resolved', String(inc.start)),
      kind: 'spread',
      site: null,
      host: null,
      verdict: null,
      partner_id: null,
      channels: [],
      subscriber_masked: null,
      sites: [...inc.sites].sort().slice(0, this.config.spreadListLimit),
      first_seen: inc.start,
      count: inc.sites.size,
      detected_at: now,
      registry_version: inc.registryVersion,
      status,
      resolves: status === 'firing' ? null : firingId,
      ends_at: status === 'firing' ? null : inc.lastNewTs + this.config.spreadQuietMs,
    };
  }
}

function firstTimeAlert(kind: Exclude<AlertKind, 'spread'>, first: Disclosure, count: number, now: number): AvroLeakAlert {
  return {
    id: alertId(kind, alertSubject(kind, first)),
    kind,
    site: first.site,
    host: first.host,
    verdict: first.verdict,
    partner_id: first.partnerId,
    channels: [...first.channels],
    subscriber_masked: first.subscriberMasked,
    sites: [],
    first_seen: first.ts,
    count,
    detected_at: now,
    registry_version: first.registryVersion,
    status: 'firing',
    resolves: null,
    ends_at: null,
  };
}
