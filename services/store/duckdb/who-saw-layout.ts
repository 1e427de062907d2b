// The who-saw layout of the embedded store: a narrow copy of each disclosure that has a
// subscriber hash, (subscriber_hash, ts_ms, rid, id), split by the hash over
// WHO_SAW_PARTITIONS tables, and `recipients`, one row per distinct (site, host, verdict,
// partner_id, channels) that `rid` points to. A subscriber's rows then sit in one small table,
// in a few of its row groups, instead of one row group each across all of `disclosures`; and
// only two narrow columns are fetched per row. Written in the same transaction as
// `disclosures` (store.ts, writeEncoded), so both always hold the same requests. See
// "Speed of the API" in the README for the measurements this layout was chosen by.
import type { Channel, Verdict } from '../../core/types.js';

/**
 * Tables the narrow rows are split over. More tables keep each subscriber in fewer row groups
 * but cost one INSERT each per batch: measured on 20 batches of 20,000 rows, 1 / 16 / 64 / 256
 * tables cost 12.7 / 11.8 / 21.4 / 47.3 CPU-µs per row written; a lookup over 10 M rows cost
 * 3.7 ms (one table) / 1.4–2.3 ms (16) / 0.9–1.2 ms (32) of CPU.
 */
export const WHO_SAW_PARTITIONS = 32;

/** Meta key set once the layout holds every stored row (a store written before it is filled on its next writable open). */
export const LAYOUT_META_KEY = 'who_saw_layout';
export const LAYOUT_VERSION = '1';

/**
 * Lower bounds of the partitions: partition i holds hashes h with BOUNDS[i] <= h < BOUNDS[i+1]
 * (byte order; the first has no lower bound, the last no upper one), so every string has a
 * partition. Hashes are lowercase hex HMACs, spread evenly: the bounds split the first two hex
 * digits into equal ranges.
 */
const BOUNDS: readonly string[] = Array.from({ length: WHO_SAW_PARTITIONS }, (_, i) =>
  ((i * 256) / WHO_SAW_PARTITIONS).toString(16).padStart(2, '0'));

export function partitionTable(i: number): string {
  return `who_saw_${String(i).padStart(2, '0')}`;
}

/** The partition of a subscriber hash, as the SQL ranges of partitionRange choose it. */
export function partitionOf(subscriberHash: string): number {
  // Bounds are ASCII, so JavaScript's comparison orders as DuckDB's byte comparison does.
  let i = 0;
  while (i + 1 < BOUNDS.length && subscriberHash >= BOUNDS[i + 1]!) i += 1;
  return i;
}

/** The SQL condition on `subscriber_hash` of partition i. */
function partitionRange(i: number): string {
  const conditions: string[] = [];
  if (i > 0) conditions.push(`subscriber_hash >= '${BOUNDS[i]!}'`);
  if (i + 1 < BOUNDS.length) conditions.push(`subscriber_hash < '${BOUNDS[i + 1]!}'`);
  return conditions.join(' AND ');
}

const PARTITIONS = Array.from({ length: WHO_SAW_PARTITIONS }, (_, i) => i);

export const CREATE_LAYOUT: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS recipients (
     rid        INTEGER PRIMARY KEY,
     site       VARCHAR NOT NULL,
     host       VARCHAR NOT NULL,
     verdict    VARCHAR NOT NULL,
     partner_id VARCHAR,
     channels   VARCHAR[] NOT NULL)`,
  ...PARTITIONS.map((i) => `CREATE TABLE IF NOT EXISTS ${partitionTable(i)} (
     subscriber_hash VARCHAR NOT NULL, ts_ms BIGINT NOT NULL, rid INTEGER NOT NULL, id VARCHAR NOT NULL)`),
];

export const CREATE_LAYOUT_INDEXES: readonly string[] = PARTITIONS.map((i) =>
  `CREATE INDEX IF NOT EXISTS ${partitionTable(i)}_subscriber ON ${partitionTable(i)} (subscriber_hash)`);

export const DROP_LAYOUT_INDEXES: readonly string[] = PARTITIONS.map((i) => `DROP INDEX IF EXISTS ${partitionTable(i)}_subscriber`);

/** Per-connection tables of one batch on its way in (with temp.staging, schema.ts). */
export const CREATE_LAYOUT_STAGING: readonly string[] = [
  `CREATE TEMP TABLE IF NOT EXISTS rejudged (id VARCHAR, ts_ms BIGINT, subscriber_hash VARCHAR)`,
  `CREATE TEMP TABLE IF NOT EXISTS moved_who_saw (subscriber_hash VARCHAR, ts_ms BIGINT, rid INTEGER, id VARCHAR)`,
];

const SAME_RECIPIENT = `r.site = s.site AND r.host = s.host AND r.verdict = s.verdict
      AND r.partner_id IS NOT DISTINCT FROM s.partner_id AND r.channels = s.channels`;

/** Adds the recipients of `source`'s rows not yet known, numbered after the highest rid. */
export function addRecipients(source: string): string {
  return `INSERT INTO recipients
    SELECT ((SELECT coalesce(max(rid), 0) FROM recipients) + row_number() OVER (ORDER BY site, host, verdict, partner_id, channels))::INTEGER,
           site, host, verdict, partner_id, channels
    FROM (SELECT DISTINCT site, host, verdict, partner_id, channels FROM ${source} WHERE subscriber_hash IS NOT NULL) AS s
    WHERE NOT EXISTS (SELECT 1 FROM recipients AS r WHERE ${SAME_RECIPIENT})`;
}

/** The narrow rows of `source` (rows with a subscriber hash), into temp.moved_who_saw. */
export function narrowRows(source: string): string {
  return `INSERT INTO temp.moved_who_saw
    SELECT s.subscriber_hash, s.ts_ms, r.rid, s.id FROM ${source} AS s JOIN recipients AS r ON ${SAME_RECIPIENT}
    WHERE s.subscriber_hash IS NOT NULL`;
}

/** Moves temp.moved_who_saw into the partitions and empties it. */
export const SPREAD_NARROW_ROWS: readonly string[] = [
  ...PARTITIONS.map((i) => `INSERT INTO ${partitionTable(i)} SELECT * FROM temp.moved_who_saw WHERE ${partitionRange(i)}`),
  `DELETE FROM temp.moved_who_saw`,
];

/** Removes the narrow rows of the disclosures listed in temp.rejudged. */
export const DROP_REJUDGED_NARROW: readonly string[] = PARTITIONS.map((i) => `DELETE FROM ${partitionTable(i)} AS w
  USING temp.rejudged AS j WHERE j.subscriber_hash IS NOT NULL AND w.id = j.id AND w.ts_ms = j.ts_ms`);

/**
 * One subscriber's narrow rows in a window ($1 the hash; window conditions appended by the
 * caller), as two number columns: `ts_ms` as DOUBLE (exact: milliseconds stay far below 2^53),
 * so reading it makes no BigInt.
 */
export function narrowRowsOf(subscriberHash: string): string {
  return `SELECT rid, ts_ms::DOUBLE AS ts_ms FROM ${partitionTable(partitionOf(subscriberHash))} WHERE subscriber_hash = $1`;
}

export function narrowGroupsOf(subscriberHash: string): string {
  return `SELECT rid, count(*) AS requests, min(ts_ms) AS first_seen, max(ts_ms) AS last_seen
    FROM ${partitionTable(partitionOf(subscriberHash))} WHERE subscriber_hash = $1`;
}

export interface Recipient {
  site: string;
  host: string;
  verdict: Verdict;
  partnerId: string | null;
  channels: readonly Channel[];
}

/**
 * The key who-saw groups a recipient's requests under: (site, host, verdict, partner),
 * length-prefixed so that no two recipients share a key whatever their text holds.
 */
export function recipientGroupKey(r: Pick<Recipient, 'site' | 'host' | 'verdict' | 'partnerId'>): string {
  return `${r.site.length}:${r.site}${r.host.length}:${r.host}${r.verdict}:${r.partnerId === null ? '-' : `+${r.partnerId}`}`;
}

/** Meta key of a random id given to each store file when it is made: what the recipient cache is kept under. */
export const STORE_ID_META_KEY = 'store_id';
export const SET_STORE_ID = `INSERT INTO meta VALUES ('${STORE_ID_META_KEY}', gen_random_uuid()::VARCHAR) ON CONFLICT DO NOTHING`;

/**
 * The recipients of one store (by its store id), by rid. Rows of `recipients` are only ever
 * added (a rid, once committed, always names the same recipient), so what is cached never goes
 * stale, and outlives the store being closed and opened again (serve lets go of the file
 * whenever a scan asks for it): a rid not yet known makes the caller read the rids above the
 * highest one known, one read at a time.
 */
export class RecipientCache {
  private readonly byRid = new Map<number, Recipient>();
  /**
   * recipientGroupKey of each, made once: grouping a lookup's parts under keys made per lookup
   * cost more than the rest of the grouping (README, "Speed of the API").
   */
  private readonly groupKeys = new Map<number, string>();
  private highest = 0;
  private reading: Promise<void> | null = null;

  get(rid: number): Recipient | undefined {
    return this.byRid.get(rid);
  }

  groupKeyOf(rid: number): string | undefined {
    return this.groupKeys.get(rid);
  }

  /** Reads the recipients above the highest known with `read` (given that rid); concurrent callers share one read. */
  fill(read: (above: number) => Promise<Array<[number, Recipient]>>): Promise<void> {
    this.reading ??= read(this.highest).then((rows) => {
      for (const [rid, recipient] of rows) {
        this.byRid.set(rid, recipient);
        this.groupKeys.set(rid, recipientGroupKey(recipient));
        if (rid > this.highest) this.highest = rid;
      }
    }).finally(() => { this.reading = null; });
    return this.reading;
  }
}

/**
 * One value per store (by its store id), made on first use and kept for the life of the
 * process: what outlives the store being closed and opened again.
 */
export function keptPerStore<T>(make: () => T): (storeId: string) => T {
  const kept = new Map<string, T>();
  return (storeId) => {
    let value = kept.get(storeId);
    if (value === undefined) {
      value = make();
      kept.set(storeId, value);
    }
    return value;
  };
}

/** The recipient cache of the store with this id, for the life of the process. */
export const recipientCacheOf = keptPerStore(() => new RecipientCache());

export const NEWER_RECIPIENTS = `SELECT rid, site, host, verdict, partner_id, channels FROM recipients WHERE rid > $1 ORDER BY rid`;
