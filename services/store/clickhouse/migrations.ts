// The ClickHouse schema as an ordered list of versioned migrations, and the runner that
// `leakscope migrate` uses. Every statement is idempotent (IF NOT EXISTS), and a version is
// recorded in `schema_migrations` only after all its statements ran, so a migration cut
// short is simply run again. Only features of ClickHouse 18.16 are used (see README.md).
import { LeakscopeError } from '../../core/errors.js';
import { VERDICTS } from '../../core/types.js';
import type { ClickHouseConnection } from './client.js';
import { CLUSTER_META_KEY, clusterStatements } from './cluster.js';
import { ident, int, joinSql, qualified, sql, str, type Sql } from './literal.js';
import { siteStateDefinitions, siteStateExpressions } from './rollups.js';
import { clickhouseVersionOf, versionAtLeast, type ClickHouseVersion } from './version.js';

export interface Migration {
  /** Increasing from 1; never renumbered, never edited once released. */
  readonly version: number;
  readonly name: string;
  statements(database: string): Sql[];
}

/** The oldest server the SQL is written and tested for (the Debian package the tests run). */
export const MIN_SERVER: Readonly<{ major: number; minor: number }> = Object.freeze({ major: 18, minor: 16 });

const VERDICT_TYPE = sql`Enum8(${joinSql(VERDICTS.map((v, i) => sql`${str(v)} = ${int(i + 1)}`), ', ')})`;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Month of an epoch-ms column, in UTC whatever the server's time zone: the unit of retention. */
function monthOf(column: Sql): Sql {
  return sql`toYYYYMM(toDateTime(intDiv(${column}, 1000), 'UTC'))`;
}

function siteRollupTable(table: Sql): Sql {
  return sql`CREATE TABLE IF NOT EXISTS ${table} (
  bucket_ms Int64,
  site String,
  verdict ${VERDICT_TYPE},
  ${siteStateDefinitions()}
) ENGINE = AggregatingMergeTree()
PARTITION BY ${monthOf(sql`bucket_ms`)}
ORDER BY (bucket_ms, site, verdict)`;
}

function siteRollupView(view: Sql, table: Sql, source: Sql, bucketMs: number): Sql {
  return sql`CREATE MATERIALIZED VIEW IF NOT EXISTS ${view} TO ${table} AS
SELECT
  toInt64(intDiv(ts_ms, ${int(bucketMs)}) * ${int(bucketMs)}) AS bucket_ms,
  site,
  verdict,
  ${siteStateExpressions()}
FROM ${source}
WHERE verdict != 'authorized'
GROUP BY bucket_ms, site, verdict`;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'disclosures, violations by time, site (hourly, daily) and subscriber rollups, meta',
    statements(db: string): Sql[] {
      const t = (name: string) => qualified(db, name);
      return [
        // Every disclosure. ReplacingMergeTree collapses rows with the same sorting key in
        // background merges; the key ends in the deterministic id and every other part of
        // it is a function of the request, so a replayed disclosure has the same key. Reads
        // never rely on the collapse having happened: they count uniqExact(id).
        // subscriber_hash is '' for a token-only disclosure (sorting keys cannot be Nullable in 18.16).
        sql`CREATE TABLE IF NOT EXISTS ${t('disclosures')} (
  id String,
  request_key String,
  ts_ms Int64,
  host String,
  site String,
  subscriber_hash String,
  subscriber_masked Nullable(String),
  subscriber_enc Nullable(String),
  channels Array(String),
  verdict ${VERDICT_TYPE},
  partner_id Nullable(String),
  registry_version String,
  gateway_id Nullable(String),
  bearer Nullable(String),
  method Nullable(String),
  scheme Nullable(String),
  path String,
  query_masked String,
  status Nullable(Int32)
) ENGINE = ReplacingMergeTree()
PARTITION BY ${monthOf(sql`ts_ms`)}
ORDER BY (subscriber_hash, ts_ms, id)`,

        // Violations sorted by time: the partial hours at the edges of a report window and
        // the partial days of an affected-subscribers export are read from here, by range
        // of the primary key, instead of scanning the subscriber-sorted raw table.
        sql`CREATE TABLE IF NOT EXISTS ${t('violations_by_time')} (
  ts_ms Int64,
  id String,
  site String,
  host String,
  subscriber_hash String,
  subscriber_enc String,
  channels Array(String),
  verdict ${VERDICT_TYPE}
) ENGINE = ReplacingMergeTree()
PARTITION BY ${monthOf(sql`ts_ms`)}
ORDER BY (ts_ms, id)`,

        // Site × UTC hour (and × UTC day) × verdict, violations only: what `report` reads —
        // days for the bulk of a window, hours for its partial days, and the hourly table for
        // the timeline. Every state is idempotent under a replayed insert: ids and subscribers
        // are exact distinct sets, hosts and channels are sets, first/last are min/max. So a
        // batch written twice (MVs see every insert) still counts once.
        siteRollupTable(t('site_hourly')),
        siteRollupTable(t('site_daily')),

        // Subscriber × UTC day × recipient (host, verdict, partner), authorised ones included:
        // what `who-saw` reads, and `affected` for its whole days. The ciphertext differs per
        // encryption (random IV) and may be absent (''); the greatest is kept, as DuckDB does.
        sql`CREATE TABLE IF NOT EXISTS ${t('subscriber_daily')} (
  subscriber_hash String,
  day_ms Int64,
  host String,
  verdict ${VERDICT_TYPE},
  partner_id String,
  site String,
  subscriber_enc_state AggregateFunction(max, String),
  requests_state AggregateFunction(uniqExact, String),
  first_seen_state AggregateFunction(min, Int64),
  last_seen_state AggregateFunction(max, Int64),
  channels_state AggregateFunction(groupUniqArrayArray, Array(String))
) ENGINE = AggregatingMergeTree()
PARTITION BY ${monthOf(sql`day_ms`)}
ORDER BY (subscriber_hash, day_ms, host, verdict, partner_id, site)`,

        sql`CREATE MATERIALIZED VIEW IF NOT EXISTS ${t('violations_by_time_mv')} TO ${t('violations_by_time')} AS
SELECT ts_ms, id, site, host, subscriber_hash, ifNull(subscriber_enc, '') AS subscriber_enc, channels, verdict
FROM ${t('disclosures')}
WHERE verdict != 'authorized'`,

        siteRollupView(t('site_hourly_mv'), t('site_hourly'), t('disclosures'), HOUR_MS),
        siteRollupView(t('site_daily_mv'), t('site_daily'), t('disclosures'), DAY_MS),

        sql`CREATE MATERIALIZED VIEW IF NOT EXISTS ${t('subscriber_daily_mv')} TO ${t('subscriber_daily')} AS
SELECT
  subscriber_hash,
  toInt64(intDiv(ts_ms, ${int(DAY_MS)}) * ${int(DAY_MS)}) AS day_ms,
  host,
  verdict,
  ifNull(partner_id, '') AS partner_id,
  site,
  maxState(ifNull(subscriber_enc, '')) AS subscriber_enc_state,
  uniqExactState(id) AS requests_state,
  minState(ts_ms) AS first_seen_state,
  maxState(ts_ms) AS last_seen_state,
  groupUniqArrayArrayState(channels) AS channels_state
FROM ${t('disclosures')}
WHERE subscriber_hash != ''
GROUP BY subscriber_hash, day_ms, host, verdict, partner_id, site`,

        // Facts about the data set (region, key check). The value is JSON text so that a
        // null is a value like any other; the row with the highest version wins.
        sql`CREATE TABLE IF NOT EXISTS ${t('meta')} (
  key String,
  value_json String,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY key`,
      ];
    },
  },
  {
    version: 2,
    name: 'audit_log: the hash-chained audit of who-saw and affected lookups',
    statements(db: string): Sql[] {
      // One row per audit entry, the entry's JSON line as written (services/audit); only ever
      // inserted into. A MergeTree, not a Replacing one: two rows with one seq are a forked
      // chain that `audit verify` must see, never collapse.
      return [sql`CREATE TABLE IF NOT EXISTS ${qualified(db, 'audit_log')} (
  seq UInt64,
  at_ms Int64,
  line String
) ENGINE = MergeTree()
ORDER BY seq`];
    },
  },
  {
    version: 3,
    name: 'alerts raised by the detector (docs/alerts.md), newest first for the API and watch',
    statements(db) {
      // The record as JSON with the columns reads filter on; a repeated alert (same id) is one row after merges, FINAL when read.
      return [sql`CREATE TABLE IF NOT EXISTS ${qualified(db, 'alerts')} (
  id String,
  kind String,
  status String,
  detected_ms Int64,
  first_seen_ms Int64,
  record String
) ENGINE = ReplacingMergeTree()
ORDER BY id`];
    },
  },
]);

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export interface MigrateResult {
  database: string;
  server: ClickHouseVersion;
  /** Versions applied by this run, in order. */
  applied: number[];
  /** Versions that were already in place. */
  alreadyApplied: number[];
  /** The cluster the schema was created on, when it was. */
  cluster?: string;
}

function migrationsTable(db: string): Sql {
  return sql`CREATE TABLE IF NOT EXISTS ${qualified(db, 'schema_migrations')} (
  version UInt32,
  name String,
  applied_ms Int64
) ENGINE = MergeTree()
ORDER BY version`;
}

/** Versions recorded in schema_migrations; empty when the table does not exist. */
export async function appliedVersions(ch: ClickHouseConnection): Promise<number[]> {
  const db = ch.config.database;
  const exists = await ch.rows<{ n: string }>(
    sql`SELECT count() AS n FROM system.tables WHERE database = ${str(db)} AND name = 'schema_migrations'`,
  );
  if (Number(exists[0]?.n ?? 0) === 0) return [];
  const rows = await ch.rows<{ version: number | string }>(
    sql`SELECT DISTINCT version FROM ${qualified(db, 'schema_migrations')} ORDER BY version`,
  );
  return rows.map((r) => Number(r.version));
}

export interface MigrateOptions {
  /** A cluster of the server's `remote_servers`: the schema is created ON CLUSTER in its cluster form (cluster.ts). */
  cluster?: string;
}

/** The cluster a database was migrated for (its meta row), or null for a single server's. */
export async function clusterOf(ch: ClickHouseConnection): Promise<string | null> {
  const db = ch.config.database;
  const tables = await ch.rows<{ n: string }>(
    sql`SELECT count() AS n FROM system.tables WHERE database = ${str(db)} AND name = 'meta'`,
  );
  if (Number(tables[0]?.n ?? 0) === 0) return null;
  const rows = await ch.rows<{ value_json: string }>(
    sql`SELECT argMax(value_json, version) AS value_json FROM ${qualified(db, 'meta')} WHERE key = ${str(CLUSTER_META_KEY)} GROUP BY key`,
  );
  const value = rows[0] === undefined ? null : JSON.parse(rows[0].value_json) as unknown;
  return typeof value === 'string' ? value : null;
}

/** The engine of schema_migrations, or null when the database has none yet. */
async function migrationsEngine(ch: ClickHouseConnection): Promise<string | null> {
  const rows = await ch.rows<{ engine: string }>(
    sql`SELECT engine FROM system.tables WHERE database = ${str(ch.config.database)} AND name = 'schema_migrations'`,
  );
  return rows[0]?.engine ?? null;
}

/** Refuses a cluster the server does not know, and a database laid out for the other form. */
async function checkLayout(ch: ClickHouseConnection, cluster: string | undefined): Promise<void> {
  const db = ch.config.database;
  if (cluster !== undefined) {
    if (ch.config.kind === 'chdb') throw new LeakscopeError('CONFIG_INVALID', 'migrate --cluster needs a ClickHouse server of the cluster; chdb (in-process) cannot be one');
    const known = await ch.rows<{ cluster: string }>(sql`SELECT DISTINCT cluster FROM system.clusters ORDER BY cluster`);
    if (!known.some((k) => k.cluster === cluster)) {
      throw new LeakscopeError('CONFIG_INVALID',
        `cluster ${JSON.stringify(cluster)} is not in the remote_servers of ${ch.config.endpoint ?? 'this server'} (it knows: ${known.map((k) => k.cluster).join(', ') || 'none'})`);
    }
  }
  const engine = await migrationsEngine(ch);
  if (engine === null) return;
  const replicated = engine.startsWith('Replicated');
  if (cluster === undefined && replicated) {
    const name = await clusterOf(ch);
    throw new LeakscopeError('CONFIG_INVALID',
      `database ${db} was migrated for cluster ${name ?? '(unknown)'}: run leakscope migrate --cluster ${name ?? 'NAME'}, so that every node gets the change`);
  }
  if (cluster !== undefined && !replicated) {
    throw new LeakscopeError('CONFIG_INVALID',
      `database ${db} holds a single server's schema (not replicated); a cluster schema needs a new database, migrated with --cluster from the start`);
  }
  if (cluster !== undefined) {
    const name = await clusterOf(ch);
    if (name !== null && name !== cluster) throw new LeakscopeError('CONFIG_INVALID', `database ${db} was migrated for cluster ${name}, not ${cluster}`);
  }
}

/** Creates the database when missing and applies every migration not yet recorded. Idempotent. */
export async function runMigrations(ch: ClickHouseConnection, migrations: readonly Migration[] = MIGRATIONS, options: MigrateOptions = {}): Promise<MigrateResult> {
  const server = await clickhouseVersionOf(ch);
  if (!versionAtLeast(server, MIN_SERVER.major, MIN_SERVER.minor)) {
    throw new LeakscopeError('STORE_FAILED',
      `ClickHouse ${server.text} is older than ${MIN_SERVER.major}.${MIN_SERVER.minor}, the oldest release leakscope's SQL is tested on; upgrade the server`);
  }
  const db = ch.config.database;
  const { cluster } = options;
  await checkLayout(ch, cluster);
  const form = (statement: Sql): Sql[] => cluster === undefined ? [statement] : clusterStatements(statement, db, cluster);
  await ch.command(cluster === undefined ? sql`CREATE DATABASE IF NOT EXISTS ${ident(db)}` : sql`CREATE DATABASE IF NOT EXISTS ${ident(db)} ON CLUSTER ${ident(cluster)}`);
  for (const statement of form(migrationsTable(db))) await ch.command(statement);
  const done = new Set(await appliedVersions(ch));
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements(db).flatMap(form)) await ch.command(statement);
    await ch.command(
      sql`INSERT INTO ${qualified(db, 'schema_migrations')} (version, name, applied_ms) VALUES (${int(migration.version)}, ${str(migration.name)}, ${int(Date.now())})`,
    );
    applied.push(migration.version);
  }
  if (cluster !== undefined && (await clusterOf(ch)) === null) {
    await ch.command(sql`INSERT INTO ${qualified(db, 'meta')} (key, value_json, version) VALUES (${str(CLUSTER_META_KEY)}, ${str(JSON.stringify(cluster))}, 0)`);
  }
  return { database: db, server, applied, alreadyApplied: [...done].sort((a, b) => a - b), ...(cluster === undefined ? {} : { cluster }) };
}
