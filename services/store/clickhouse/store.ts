// DisclosureStore on ClickHouse. Writes go to `disclosures` only (materialized views fill
// the rest); report, who-saw and affected read the rollups, plus the partial buckets at a
// window's edges. A batch written twice, whole or in part, counts once: see README.md.
import { LeakscopeError } from '../../core/errors.js';
import { VERDICTS, type Verdict } from '../../core/types.js';
import { ClickHouseAuditTrail } from './audit.js';
import type {
  AffectedSubscriber, AuditTrail, DisclosureStore, RecipientAggregate, ReportAggregates, SiteAggregate, StoreMeta, StoredAlert, StoredDisclosure, Window,
} from '../types.js';
import { clickhouseConfig, describeTarget, type ClickHouseOptions } from './config.js';
import { metaEntries, metaFrom } from '../meta.js';
import type { ClickHouseSettings } from '@clickhouse/client';
import { ClickHouseConnection } from './client.js';
import { int, joinSql, qualified, sql, str, ident, type Sql } from './literal.js';
import { appliedVersions, clusterOf, LATEST_VERSION } from './migrations.js';
import {
  affectedQuery, DAY_MS, HOUR_MS, reportSitesQuery, reportSource, reportTimelineQuery, reportTotalsQuery, verdictColumn, whoSawQuery,
} from './queries.js';
import { CLICKHOUSE_COLUMNS, disclosureRow } from './rows.js';

/** A UInt64/Int64 from JSONEachRow (quoted) or a small number; refuses what a JS number cannot hold exactly. */
function num(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new LeakscopeError('STORE_FAILED', `ClickHouse returned ${JSON.stringify(value)} for ${what}; expected an integer`);
  return n;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

const VIOLATION_VERDICTS = VERDICTS.filter((v) => v !== 'authorized');

class ClickHouseStore implements DisclosureStore {
  private closed = false;
  private lastMetaVersion = 0;

  /**
   * On a cluster `disclosures` is a Distributed table: the insert returns only once every
   * shard's part of the batch is written there (not queued on this node to be sent later),
   * so the detector commits offsets only for rows that are on their shards.
   */
  private readonly insertSettings: ClickHouseSettings;

  constructor(private readonly ch: ClickHouseConnection, readonly cluster: string | null) {
    this.insertSettings = cluster === null ? {} : { insert_distributed_sync: 1 };
  }

  private get db(): string {
    return this.ch.config.database;
  }

  private open(): void {
    if (this.closed) throw new LeakscopeError('STORE_FAILED', `${describeTarget(this.ch.config)}: the store is closed`, { retryable: false });
  }

  async write(batch: readonly StoredDisclosure[]): Promise<void> {
    this.open();
    if (batch.length === 0) return;
    // Encode (and validate) the whole batch before sending any of it.
    const rows = batch.map(disclosureRow);
    const table = qualified(this.db, 'disclosures');
    const size = this.ch.config.maxRowsPerInsert;
    for (let i = 0; i < rows.length; i += size) await this.ch.insert(table, CLICKHOUSE_COLUMNS, rows.slice(i, i + size), this.insertSettings);
  }

  async report(window: Window & { from: number; to: number }, site?: string): Promise<ReportAggregates> {
    this.open();
    // Per site from daily buckets (fewest states to merge); timeline and totals from hourly ones.
    const bySite = reportSource(this.db, window, site, [DAY_MS, HOUR_MS]);
    const byHour = reportSource(this.db, window, site, [HOUR_MS]);
    if (bySite === null || byHour === null) return { totals: { violations: 0, subscribers: 0, sites: 0 }, sites: [], timeline: [] };
    const [siteRows, timelineRows, totalRows] = await Promise.all([
      this.ch.rows<Record<string, unknown>>(reportSitesQuery(bySite)),
      this.ch.rows<{ bucket_ms: unknown; violations: unknown }>(reportTimelineQuery(byHour)),
      this.ch.rows<{ violations: unknown; subscribers: unknown; sites: unknown }>(reportTotalsQuery(byHour)),
    ]);
    const sites: SiteAggregate[] = siteRows.map((r) => {
      const verdicts: Partial<Record<Verdict, number>> = {};
      for (const v of VIOLATION_VERDICTS) {
        const n = num(r[verdictColumn(v)], `verdict count ${v}`);
        if (n > 0) verdicts[v] = n;
      }
      return {
        site: String(r.site),
        hosts: strings(r.hosts),
        violations: num(r.violations, 'violations'),
        subscribers: num(r.subscribers, 'subscribers'),
        firstSeen: num(r.first_seen, 'first_seen'),
        lastSeen: num(r.last_seen, 'last_seen'),
        identifiers: strings(r.identifiers),
        verdicts,
      };
    });
    const t = totalRows[0];
    return {
      totals: {
        violations: t ? num(t.violations, 'total violations') : 0,
        subscribers: t ? num(t.subscribers, 'total subscribers') : 0,
        sites: t ? num(t.sites, 'total sites') : 0,
      },
      sites,
      timeline: timelineRows.map((r) => ({ bucket: num(r.bucket_ms, 'bucket'), violations: num(r.violations, 'violations') }))
        .filter((b) => b.violations > 0),
    };
  }

  async whoSaw(subscriberHash: string, window: Window): Promise<RecipientAggregate[]> {
    this.open();
    const query = whoSawQuery(this.db, subscriberHash, window);
    if (query === null) return [];
    const rows = await this.ch.rows<Record<string, unknown>>(query);
    return rows.map((r) => ({
      site: String(r.site),
      host: String(r.host),
      verdict: String(r.verdict) as Verdict,
      partnerId: r.partner_key === '' ? null : String(r.partner_key),
      requests: num(r.requests, 'requests'),
      identifiers: strings(r.identifiers),
      firstSeen: num(r.first_seen, 'first_seen'),
      lastSeen: num(r.last_seen, 'last_seen'),
    }));
  }

  async affected(window: Window & { from: number; to: number }): Promise<AffectedSubscriber[]> {
    this.open();
    const query = affectedQuery(this.db, window);
    if (query === null) return [];
    const rows = await this.ch.rows<Record<string, unknown>>(query);
    return rows.map((r) => ({
      subscriberHash: String(r.subscriber_hash),
      subscriberEnc: String(r.subscriber_enc),
      sites: strings(r.sites),
      violations: num(r.violations, 'violations'),
      firstSeen: num(r.first_seen, 'first_seen'),
      lastSeen: num(r.last_seen, 'last_seen'),
    }));
  }

  async readMeta(): Promise<StoreMeta> {
    this.open();
    const rows = await this.ch.rows<{ key: string; value_json: string }>(
      sql`SELECT key, argMax(value_json, version) AS value_json FROM ${qualified(this.db, 'meta')} GROUP BY key`,
    );
    const values = new Map(rows.map((r) => [r.key, JSON.parse(r.value_json) as unknown]));
    return metaFrom((key) => {
      const v = values.get(key);
      return typeof v === 'string' ? v : null;
    });
  }

  async writeMeta(meta: StoreMeta): Promise<void> {
    this.open();
    // Versions increase within this process even when two writes share a millisecond.
    this.lastMetaVersion = Math.max(Date.now(), this.lastMetaVersion + 1);
    const v = int(this.lastMetaVersion);
    const row = (key: string, value: string | null): Sql => sql`(${str(key)}, ${str(JSON.stringify(value))}, ${v})`;
    await this.ch.command(sql`INSERT INTO ${qualified(this.db, 'meta')} (key, value_json, version) VALUES ${joinSql(
      metaEntries(meta).map(([key, value]) => row(key, value)), ', ')}`);
  }

  async maskedSubscribers(subscriberHashes: readonly string[]): Promise<Map<string, string>> {
    this.open();
    const out = new Map<string, string>();
    if (subscriberHashes.length === 0) return out;
    // disclosures is ordered by subscriber_hash: a lookup of a few hashes reads a few granules.
    const rows = await this.ch.rows<{ subscriber_hash: string; masked: string }>(sql`SELECT subscriber_hash, max(subscriber_masked) AS masked
FROM ${qualified(this.db, 'disclosures')}
WHERE subscriber_hash IN (${joinSql(subscriberHashes.map((h) => str(h)), ', ')}) AND isNotNull(subscriber_masked)
GROUP BY subscriber_hash`);
    for (const r of rows) out.set(String(r.subscriber_hash), String(r.masked));
    return out;
  }

  auditTrail(): AuditTrail {
    return new ClickHouseAuditTrail(this.ch);
  }

  async writeAlerts(alerts: readonly StoredAlert[]): Promise<void> {
    this.open();
    if (alerts.length === 0) return;
    const rows = alerts.map((a) => ({ id: a.id, kind: a.kind, status: a.status, detected_ms: a.detected_at, first_seen_ms: a.first_seen, record: JSON.stringify(a) }));
    await this.ch.insert(qualified(this.db, 'alerts'), ['id', 'kind', 'status', 'detected_ms', 'first_seen_ms', 'record'], rows);
  }

  async recentAlerts(options: { since?: number; limit?: number } = {}): Promise<StoredAlert[]> {
    this.open();
    // The first row of an id is kept (argMin by detected_ms), as in the embedded store.
    const rows = await this.ch.rows<{ record: string }>(sql`SELECT argMin(record, detected_ms) AS record, min(detected_ms) AS detected
FROM ${qualified(this.db, 'alerts')} GROUP BY id HAVING detected >= ${int(options.since ?? 0)}
ORDER BY detected DESC, id LIMIT ${int(options.limit ?? 100)}`);
    return rows.map((r) => JSON.parse(r.record) as StoredAlert);
  }

  async alertedSites(): Promise<string[]> {
    this.open();
    // The daily site rollup holds violations only, one row per site, day and verdict (fewer
    // after merges): a small table, never the raw disclosures.
    const rows = await this.ch.rows<{ site: string }>(sql`SELECT DISTINCT site FROM ${qualified(this.db, 'site_daily')} ORDER BY site`);
    return rows.map((r) => r.site);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.ch.close();
  }
}

/**
 * Every call of a cluster's store, whichever node it is opened on, writes to and reads from
 * the first healthy replica of each shard in remote_servers order: a read then sees what the
 * writes before it wrote, without waiting for replication (README.md, "A cluster").
 */
const CLUSTER_SETTINGS: ClickHouseSettings = Object.freeze({ load_balancing: 'in_order' });

/**
 * Opens the disclosure store in the database named by the URL's path. The schema must be
 * in place (`leakscope migrate`); a server that cannot be reached gives a retryable STORE_FAILED.
 */
export async function openClickHouseStore(url: string, options: ClickHouseOptions = {}): Promise<DisclosureStore> {
  const ch = new ClickHouseConnection(clickhouseConfig(url, options));
  let versions: number[];
  let cluster: string | null;
  try {
    versions = await appliedVersions(ch);
    cluster = await clusterOf(ch);
  } catch (err) {
    await ch.close();
    throw err;
  }
  if (!versions.includes(LATEST_VERSION)) {
    const found = versions.length === 0 ? 'no leakscope schema' : `schema version ${Math.max(...versions)}`;
    await ch.close();
    // A store that is not there, like a DuckDB file that does not exist: refused input (exit 2), not a fault.
    throw new LeakscopeError('INPUT_UNREADABLE',
      `${describeTarget(ch.config)}: database ${ch.config.database} has ${found}; this leakscope needs version ${LATEST_VERSION}. Run: leakscope migrate --clickhouse URL${cluster === null ? '' : ` --cluster ${cluster}`}`);
  }
  if (cluster === null) return new ClickHouseStore(ch, null);
  await ch.close();
  return new ClickHouseStore(new ClickHouseConnection(ch.config, CLUSTER_SETTINGS), cluster);
}
