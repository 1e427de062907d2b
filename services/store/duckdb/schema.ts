// The tables of the embedded store. One file, three tables: the disclosures themselves, a
// key/value `meta` (region, key check, schema version) and `scans`, a log of scan runs.
// Times are epoch milliseconds (BIGINT, UTC) so values round-trip exactly to the interface.
// The disclosure columns come from services/store/columns.ts, the one list every store uses.
import { DISCLOSURE_COLUMNS, type ColumnKind } from '../columns.js';

// 2: disclosure ids hash the request time too, and (id, ts_ms) is kept unique by PICK_NEW
// instead of a PRIMARY KEY; a version-1 store would get its requests a second time under the
// new ids, so it is refused (scan into a new --db).
export const SCHEMA_VERSION = '2';


const DUCKDB_TYPE: Readonly<Record<ColumnKind, string>> = {
  text: 'VARCHAR', time: 'BIGINT', int32: 'INTEGER', 'text[]': 'VARCHAR[]', verdict: 'VARCHAR',
};

/** Columns of `disclosures` (services/store/columns.ts) with their DuckDB types. */
const COLUMNS = DISCLOSURE_COLUMNS.map((c) => ({ name: c.name, type: DUCKDB_TYPE[c.kind], notNull: !c.nullable }));

const COLUMN_NAMES = COLUMNS.map((c) => c.name).join(', ');

/**
 * Statements that create (or find) the schema; each is idempotent. `disclosures` has no
 * PRIMARY KEY: keeping an ART index of random 32-hex ids took 9 µs of CPU per stored row
 * (as much as parsing, storing and compressing the row together); PICK_NEW keeps rows
 * unique by (id, ts_ms) instead.
 */
export const CREATE_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS disclosures (
     ${COLUMNS.map((c) => `${c.name} ${c.type}${c.notNull ? ' NOT NULL' : ''}`).join(',\n     ')})`,
  // who-saw reads the narrow partitioned copy of who-saw-layout.ts, not this table; an index on
  // disclosures (subscriber_hash) that stores written before it had is dropped once that copy is filled.
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
  `CREATE SEQUENCE IF NOT EXISTS scans_id`,
  `CREATE TABLE IF NOT EXISTS scans (
     id           BIGINT PRIMARY KEY DEFAULT nextval('scans_id'),
     inputs       VARCHAR[] NOT NULL,
     started_ms   BIGINT NOT NULL,
     finished_ms  BIGINT,           -- null while running or when the run was interrupted
     outcome      VARCHAR NOT NULL, -- running | done | interrupted | failed
     lines        BIGINT,
     requests     BIGINT,
     disclosures  BIGINT,
     violations   BIGINT,
     rejected     BIGINT)`,
  `INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}') ON CONFLICT DO NOTHING`,
  // Alerts raised while scanning or watching (docs/alerts.md): the record as JSON, with the
  // columns the reads filter and sort on. Added without a schema version: older stores get it on open.
  `CREATE TABLE IF NOT EXISTS alerts (
     id           VARCHAR PRIMARY KEY,
     kind         VARCHAR NOT NULL,
     status       VARCHAR NOT NULL,
     detected_ms  BIGINT NOT NULL,
     first_seen_ms BIGINT NOT NULL,
     record       VARCHAR NOT NULL)`,
];

/**
 * The staging table a batch is appended to before one INSERT … ON CONFLICT DO NOTHING moves
 * it into `disclosures`. Temporary (per connection, never on disk) and without constraints,
 * so a bad row fails in that INSERT, inside the batch's transaction.
 */
export const CREATE_STAGING = `CREATE TEMP TABLE IF NOT EXISTS staging (
  ${COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')})`;

/** The rows of one batch that are new to the store, on their way into `disclosures` and the who-saw layout. */
export const CREATE_MOVED = `CREATE TEMP TABLE IF NOT EXISTS moved (
  ${COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ')})`;

/**
 * Picks the staged rows to store, each (id, ts_ms) once, into temp.moved: repeats within the
 * batch are dropped, and so are rows already stored. The id is a hash of the request key and a
 * request has one time, so a rescan finds its rows again; comparing the time too lets the
 * anti-join read only the stored rows of the batch's time range (zone maps of ts_ms skip the
 * rest: gateway logs are written in time order), so its cost does not grow with the store.
 */
export const PICK_NEW = `INSERT INTO temp.moved (${COLUMN_NAMES})
  SELECT ${COLUMN_NAMES} FROM (SELECT DISTINCT ON (id, ts_ms) * FROM temp.staging) AS s
  WHERE NOT EXISTS (
    SELECT 1 FROM disclosures AS d
    WHERE d.ts_ms BETWEEN (SELECT min(ts_ms) FROM temp.staging) AND (SELECT max(ts_ms) FROM temp.staging)
      AND d.id = s.id AND d.ts_ms = s.ts_ms)`;

export const MOVE_PICKED = `INSERT INTO disclosures (${COLUMN_NAMES}) SELECT ${COLUMN_NAMES} FROM temp.moved`;

/**
 * What the staged batch holds, which decides how it is moved in (store.ts, writeEncoded):
 * `staged` rows, `keys` distinct (id, ts_ms), `stored` rows whose (id, ts_ms) is already in
 * `disclosures`. A batch of new requests only (a first scan: almost every batch) has
 * keys = staged and stored = 0 and goes in as it is (MOVE_STAGED), without PICK_NEW's
 * DISTINCT ON over every column and its copy into temp.moved (about a third of the write's
 * CPU, docs/benchmarks.md "Embedded scan"); a batch of stored rows only (a rescan) adds nothing.
 * Counting two narrow columns costs a fraction of either.
 */
export const STAGED_KEYS = `SELECT (SELECT count(*) FROM temp.staging) AS staged,
    (SELECT count(*) FROM (SELECT DISTINCT id, ts_ms FROM temp.staging)) AS keys,
    (SELECT count(*) FROM temp.staging AS s WHERE EXISTS (
      SELECT 1 FROM disclosures AS d
      WHERE d.ts_ms BETWEEN (SELECT min(ts_ms) FROM temp.staging) AND (SELECT max(ts_ms) FROM temp.staging)
        AND d.id = s.id AND d.ts_ms = s.ts_ms)) AS stored`;

export const MOVE_STAGED = `INSERT INTO disclosures (${COLUMN_NAMES}) SELECT ${COLUMN_NAMES} FROM temp.staging`;

/**
 * Before PICK_NEW: a request stored under another registry version is judged again, so its
 * old row goes and the new one takes its place (a rescan with a corrected registry gives that
 * registry's answers). Rows of the same version are left to PICK_NEW's anti-join. The rows to
 * drop are listed in temp.rejudged first, so that their who-saw copies go too.
 */
export const FIND_REJUDGED = `INSERT INTO temp.rejudged SELECT DISTINCT d.id, d.ts_ms, d.subscriber_hash FROM disclosures AS d
  JOIN (SELECT DISTINCT id, ts_ms, registry_version FROM temp.staging) AS s ON d.id = s.id AND d.ts_ms = s.ts_ms
  WHERE d.ts_ms BETWEEN (SELECT min(ts_ms) FROM temp.staging) AND (SELECT max(ts_ms) FROM temp.staging)
    AND d.registry_version <> s.registry_version`;

export const DROP_REJUDGED = `DELETE FROM disclosures AS d USING temp.rejudged AS j
  WHERE d.ts_ms BETWEEN (SELECT min(ts_ms) FROM temp.rejudged) AND (SELECT max(ts_ms) FROM temp.rejudged)
    AND d.id = j.id AND d.ts_ms = j.ts_ms`;

/** Reads one encoded batch (staging-format.ts) into the staging table; `file` is a path we made. */
export function stageFromNdjson(file: string): string {
  const columns = COLUMNS.map((c) => `${c.name}: '${c.type}'`).join(', ');
  return `INSERT INTO temp.staging (${COLUMN_NAMES}) SELECT ${COLUMN_NAMES} FROM read_json('${file.replaceAll("'", "''")}',
    format = 'newline_delimited', columns = {${columns}})`;
}
