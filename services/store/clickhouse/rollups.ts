// The aggregate states of the site rollups (site_hourly, site_daily), defined once: the
// migration creates the columns and the views from this list, and the report query builds the
// same states from raw rows at a window's edges. A state added in one place and not the other
// would silently change counts, so both derive from here. Every state is idempotent under a
// replayed insert (exact sets, min/max): see README.md ("A batch written twice counts once").
import { joinSql, sql, type Sql } from './literal.js';

/** One state per line, as the migration has always written them (its text is pinned by checksum). */
function lines(parts: readonly Sql[]): Sql {
  return parts.reduce((acc, part) => sql`${acc},\n  ${part}`);
}

interface StateColumn {
  /** The rollup table's column (a constant, so written as SQL as it is). */
  readonly column: Sql;
  /** Its type. */
  readonly type: Sql;
  /** The -State expression over `disclosures` / `violations_by_time` rows that fills it. */
  readonly state: Sql;
}

const SITE_STATES: readonly StateColumn[] = Object.freeze([
  { column: sql`violations_state`, type: sql`AggregateFunction(uniqExact, String)`, state: sql`uniqExactState(id)` },
  { column: sql`subscribers_state`, type: sql`AggregateFunction(uniqExactIf, String, UInt8)`, state: sql`uniqExactIfState(subscriber_hash, subscriber_hash != '')` },
  { column: sql`first_seen_state`, type: sql`AggregateFunction(min, Int64)`, state: sql`minState(ts_ms)` },
  { column: sql`last_seen_state`, type: sql`AggregateFunction(max, Int64)`, state: sql`maxState(ts_ms)` },
  { column: sql`hosts_state`, type: sql`AggregateFunction(groupUniqArray, String)`, state: sql`groupUniqArrayState(host)` },
  { column: sql`channels_state`, type: sql`AggregateFunction(groupUniqArrayArray, Array(String))`, state: sql`groupUniqArrayArrayState(channels)` },
]);

/** `violations_state AggregateFunction(uniqExact, String),\n  …` for CREATE TABLE. */
export function siteStateDefinitions(): Sql {
  return lines(SITE_STATES.map((s) => sql`${s.column} ${s.type}`));
}

/** `uniqExactState(id) AS violations_state,\n  …` for a SELECT that builds the states. */
export function siteStateExpressions(): Sql {
  return lines(SITE_STATES.map((s) => sql`${s.state} AS ${s.column}`));
}

/** `violations_state, subscribers_state, …` for a SELECT that reads a rollup. */
export function siteStateColumns(): Sql {
  return joinSql(SITE_STATES.map((s) => s.column), ', ');
}
