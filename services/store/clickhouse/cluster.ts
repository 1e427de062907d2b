// The cluster form of the schema (`leakscope migrate --cluster NAME`), derived from the
// single-server migrations rather than written twice: each CREATE TABLE becomes a replicated
// table created ON CLUSTER (plus, for the sharded data, a Distributed table under the
// original name), each materialized view is created on every node and reads and writes the
// node's local tables. What goes where is the PLACEMENTS table below; see README.md
// ("A cluster") for why, and why a replayed batch still counts once.
import { LeakscopeError } from '../../core/errors.js';
import { ident, qualified, sliceSql, sql, str, type Sql } from './literal.js';

/** Where a table's rows live on a cluster. */
export type Placement =
  /** Spread over the shards (each shard's replicas copy it); `key` routes an insert, null = written only by views on each node. */
  | { readonly kind: 'sharded'; readonly key: Sql | null }
  /** One copy on every node of the cluster: small tables every node must read whole. */
  | { readonly kind: 'everywhere' };

/**
 * Every table of the schema. disclosures is sharded by its subscriber, so one subscriber's
 * rows (and the subscriber_daily rollup the views make of them) are on one shard and a
 * replayed disclosure lands where its first copy did; the tables the views fill follow it.
 * A table missing here is refused by `migrate --cluster` (and by a unit test).
 */
export const PLACEMENTS: ReadonlyMap<string, Placement> = new Map<string, Placement>([
  ['disclosures', { kind: 'sharded', key: sql`cityHash64(subscriber_hash)` }],
  ['violations_by_time', { kind: 'sharded', key: null }],
  ['site_hourly', { kind: 'sharded', key: null }],
  ['site_daily', { kind: 'sharded', key: null }],
  ['subscriber_daily', { kind: 'sharded', key: null }],
  ['meta', { kind: 'everywhere' }],
  ['schema_migrations', { kind: 'everywhere' }],
  ['audit_log', { kind: 'everywhere' }],
  ['alerts', { kind: 'everywhere' }],
]);

/** The meta row (key → JSON of the cluster name) by which a store knows it is on a cluster. */
export const CLUSTER_META_KEY = 'clickhouse_cluster';

/** The suffix of a sharded table's replicated local table; the plain name is its Distributed table. */
export const LOCAL_SUFFIX = '_local';

const TABLE = /^CREATE TABLE IF NOT EXISTS `([A-Za-z0-9_]+)`\.`([A-Za-z0-9_]+)` \(([\s\S]*)\) ENGINE = (MergeTree|ReplacingMergeTree|AggregatingMergeTree)\(([A-Za-z_][A-Za-z0-9_]*)?\)\n/;
const VIEW = /^CREATE MATERIALIZED VIEW IF NOT EXISTS `([A-Za-z0-9_]+)`\.`([A-Za-z0-9_]+)` TO `[A-Za-z0-9_]+`\.`([A-Za-z0-9_]+)` AS\n/;
const QUALIFIED = /`([A-Za-z0-9_]+)`\.`([A-Za-z0-9_]+)`/g;

function placementOf(table: string): Placement {
  const placement = PLACEMENTS.get(table);
  if (placement === undefined) {
    throw new LeakscopeError('STORE_FAILED',
      `table ${table} has no cluster placement: add it to PLACEMENTS in services/store/clickhouse/cluster.ts before migrating a cluster`, { retryable: false });
  }
  return placement;
}

/** The name rows of `table` are written to and read from on a node: the local table of a sharded one. */
function localName(table: string): string {
  return placementOf(table).kind === 'sharded' ? `${table}${LOCAL_SUFFIX}` : table;
}

function concat(parts: readonly Sql[]): Sql {
  return parts.reduce((acc, part) => sql`${acc}${part}`, sql``);
}

/**
 * The statements that create, ON CLUSTER `cluster`, what `statement` creates on one server.
 * Refuses a statement of a shape it does not know (a new kind of migration must teach it here).
 */
export function clusterStatements(statement: Sql, database: string, cluster: string): Sql[] {
  const onCluster = sql`ON CLUSTER ${ident(cluster)}`;
  const table = TABLE.exec(statement.text);
  if (table !== null) {
    const [head, db, name, , family, args] = table as unknown as [string, string, string, string, string, string | undefined];
    if (db !== database) throw refusal(statement, `names database ${db}, not ${database}`);
    const columnsStart = head.indexOf('(') + 1;
    const columns = sliceSql(statement, columnsStart, head.lastIndexOf(') ENGINE = '));
    const rest = sliceSql(statement, head.length - 1);
    const placement = placementOf(name);
    const local = localName(name);
    // Replicas of one shard share a ZooKeeper path; a table on every node has one path for all.
    const path = str(`/clickhouse/tables/{cluster}/${db}/${name}/${placement.kind === 'sharded' ? '{shard}' : 'all'}`);
    const engineArgs = args === undefined ? sql`${path}, '{replica}'` : sql`${path}, '{replica}', ${ident(args)}`;
    const engine = sql`Replicated${family === 'MergeTree' ? sql`` : family === 'ReplacingMergeTree' ? sql`Replacing` : sql`Aggregating`}MergeTree(${engineArgs})`;
    const out = [sql`CREATE TABLE IF NOT EXISTS ${qualified(db, local)} ${onCluster} (${columns}) ENGINE = ${engine}${rest}`];
    if (placement.kind === 'sharded') {
      const key = placement.key === null ? sql`` : sql`, ${placement.key}`;
      out.push(sql`CREATE TABLE IF NOT EXISTS ${qualified(db, name)} ${onCluster} AS ${qualified(db, local)}
ENGINE = Distributed(${str(cluster)}, ${str(db)}, ${str(local)}${key})`);
    }
    return out;
  }
  const view = VIEW.exec(statement.text);
  if (view !== null) {
    const [head, db, name, target] = view as unknown as [string, string, string, string];
    if (db !== database) throw refusal(statement, `names database ${db}, not ${database}`);
    // The view fires on the node an insert reaches, so it reads that node's local rows and
    // writes its local rollup, which replication then copies to the shard's other replicas.
    const body = sliceSql(statement, head.length);
    const parts: Sql[] = [];
    let at = 0;
    for (const match of body.text.matchAll(QUALIFIED)) {
      if (match[1] !== database) throw refusal(statement, `reads database ${match[1]}, not ${database}`);
      parts.push(sliceSql(body, at, match.index), qualified(database, localName(match[2]!)));
      at = match.index + match[0].length;
    }
    parts.push(sliceSql(body, at));
    return [sql`CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualified(db, name)} ${onCluster} TO ${qualified(db, localName(target))} AS\n${concat(parts)}`];
  }
  throw refusal(statement, 'is neither a CREATE TABLE of the MergeTree family nor a CREATE MATERIALIZED VIEW … TO');
}

function refusal(statement: Sql, why: string): LeakscopeError {
  const first = statement.text.split('\n')[0]!.slice(0, 120);
  return new LeakscopeError('STORE_FAILED', `cannot derive the cluster form of "${first}": it ${why}`, { retryable: false });
}
