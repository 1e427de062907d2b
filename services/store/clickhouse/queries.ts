// The SQL of the three questions, reading the rollups. A window rarely falls on bucket
// boundaries, so it is split: whole days from a daily rollup, whole hours of the partial days
// from an hourly one, and the partial hours (or days) at its edges from a time-sorted (or,
// for who-saw, subscriber-sorted) table, aggregated into the same states; one query merges
// them all. Every count is a merge of exact
// distinct sets of disclosure ids, so duplicates anywhere count once.
import { VERDICTS, type Verdict } from '../../core/types.js';
import { ident, int, joinSql, qualified, sql, str, type Sql } from './literal.js';
import { siteStateColumns, siteStateExpressions } from './rollups.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface Range {
  from: number | null;
  to: number | null;
}

export interface WindowSplit {
  /** Whole buckets, both ends multiples of the unit (or null = unbounded); null when none. */
  whole: Range | null;
  /** Partial buckets at the edges, read from raw rows. */
  edges: Array<{ from: number | null; to: number | null }>;
}

/** Splits [from, to) into whole units of `unitMs` and the partial pieces at either end. */
export function splitWindow(window: Range, unitMs: number): WindowSplit {
  const { from, to } = window;
  if (from !== null && to !== null && from >= to) return { whole: null, edges: [] };
  const wholeFrom = from === null ? null : Math.ceil(from / unitMs) * unitMs;
  const wholeTo = to === null ? null : Math.floor(to / unitMs) * unitMs;
  if (wholeFrom !== null && wholeTo !== null && wholeFrom >= wholeTo) return { whole: null, edges: [{ from, to }] };
  const edges: WindowSplit['edges'] = [];
  if (from !== null && wholeFrom !== null && from < wholeFrom) edges.push({ from, to: wholeFrom });
  if (to !== null && wholeTo !== null && wholeTo < to) edges.push({ from: wholeTo, to });
  return { whole: { from: wholeFrom, to: wholeTo }, edges };
}

/** A window cut into pieces per level: whole `units[0]` buckets, then whole `units[1]` buckets of what is left, …; `null` = raw rows. */
export interface LevelPieces {
  unit: number | null;
  ranges: Range[];
}

export function splitLevels(window: Range, units: readonly number[]): LevelPieces[] {
  const pieces = new Map<number | null, Range[]>();
  const add = (unit: number | null, range: Range) => {
    const list = pieces.get(unit) ?? [];
    list.push(range);
    pieces.set(unit, list);
  };
  const walk = (w: Range, level: number) => {
    if (level === units.length) {
      add(null, w);
      return;
    }
    const split = splitWindow(w, units[level]!);
    if (split.whole) add(units[level]!, split.whole);
    for (const edge of split.edges) walk(edge, level + 1);
  };
  walk(window, 0);
  return [...pieces].map(([unit, ranges]) => ({ unit, ranges }));
}

function rangeCondition(column: Sql, range: Range): Sql[] {
  const parts: Sql[] = [];
  if (range.from !== null) parts.push(sql`${column} >= ${int(range.from)}`);
  if (range.to !== null) parts.push(sql`${column} < ${int(range.to)}`);
  return parts;
}

function rangesCondition(column: Sql, ranges: readonly Range[]): Sql {
  return sql`(${joinSql(ranges.map((r) => {
    const parts = rangeCondition(column, r);
    return parts.length === 0 ? sql`1` : sql`(${joinSql(parts, ' AND ')})`;
  }), ' OR ')})`;
}

function edgesCondition(edges: readonly Range[]): Sql {
  return rangesCondition(sql`ts_ms`, edges);
}

function where(conditions: Sql[]): Sql {
  return conditions.length === 0 ? sql`` : sql`WHERE ${joinSql(conditions, ' AND ')}`;
}

function unionAll(parts: Sql[]): Sql | null {
  return parts.length === 0 ? null : joinSql(parts.map((p) => sql`${p}`), ' UNION ALL ');
}

const VIOLATION_VERDICTS = VERDICTS.filter((v) => v !== 'authorized');

// ---------------------------------------------------------------------------------------
// report: site_hourly + violations_by_time

const SITE_ROLLUPS: ReadonlyMap<number, string> = new Map([[DAY_MS, 'site_daily'], [HOUR_MS, 'site_hourly']]);

/**
 * Rows (bucket_ms, site, verdict, *_state) of the violations in [from, to), optionally of one
 * site; null when the window is empty. `units` picks the rollups: [DAY_MS, HOUR_MS] for the
 * per-site answer (fewest states to merge), [HOUR_MS] for the hourly timeline.
 */
export function reportSource(db: string, window: { from: number; to: number }, site?: string, units: readonly number[] = [DAY_MS, HOUR_MS]): Sql | null {
  const siteCondition = site === undefined ? [] : [sql`site = ${str(site)}`];
  const parts: Sql[] = [];
  for (const { unit, ranges } of splitLevels(window, units)) {
    if (unit !== null) {
      parts.push(sql`SELECT bucket_ms, site, verdict, ${siteStateColumns()}
FROM ${qualified(db, SITE_ROLLUPS.get(unit)!)}
${where([rangesCondition(sql`bucket_ms`, ranges), ...siteCondition])}`);
    } else {
      parts.push(sql`SELECT toInt64(intDiv(ts_ms, ${int(HOUR_MS)}) * ${int(HOUR_MS)}) AS bucket_ms, site, verdict,
  ${siteStateExpressions()}
FROM ${qualified(db, 'violations_by_time')}
${where([edgesCondition(ranges), ...siteCondition])}
GROUP BY bucket_ms, site, verdict`);
    }
  }
  return unionAll(parts);
}

export function verdictColumn(v: Verdict): string {
  return `v_${v}`;
}

export function reportSitesQuery(source: Sql): Sql {
  const perVerdict = VIOLATION_VERDICTS.map((v) => sql`uniqExactMergeIf(violations_state, verdict = ${str(v)}) AS ${ident(verdictColumn(v))}`);
  return sql`SELECT site,
  groupUniqArrayMerge(hosts_state) AS hosts,
  uniqExactMerge(violations_state) AS violations,
  uniqExactIfMerge(subscribers_state) AS subscribers,
  minMerge(first_seen_state) AS first_seen,
  maxMerge(last_seen_state) AS last_seen,
  groupUniqArrayArrayMerge(channels_state) AS identifiers,
  ${joinSql(perVerdict, ', ')}
FROM (${source})
GROUP BY site`;
}

export function reportTimelineQuery(source: Sql): Sql {
  return sql`SELECT bucket_ms, uniqExactMerge(violations_state) AS violations
FROM (${source})
GROUP BY bucket_ms`;
}

export function reportTotalsQuery(source: Sql): Sql {
  return sql`SELECT uniqExactMerge(violations_state) AS violations, uniqExactIfMerge(subscribers_state) AS subscribers, uniqExact(site) AS sites
FROM (${source})`;
}

// ---------------------------------------------------------------------------------------
// who-saw: subscriber_daily + disclosures (sorted by subscriber)

export function whoSawQuery(db: string, subscriberHash: string, window: Range): Sql | null {
  const split = splitWindow(window, DAY_MS);
  const who = sql`subscriber_hash = ${str(subscriberHash)}`;
  const parts: Sql[] = [];
  if (split.whole) {
    parts.push(sql`SELECT host, verdict, partner_id AS partner_key, site, requests_state, first_seen_state, last_seen_state, channels_state
FROM ${qualified(db, 'subscriber_daily')}
${where([who, ...rangeCondition(sql`day_ms`, split.whole)])}`);
  }
  if (split.edges.length > 0) {
    parts.push(sql`SELECT host, verdict, ifNull(partner_id, '') AS partner_key, site,
  uniqExactState(id) AS requests_state,
  minState(ts_ms) AS first_seen_state,
  maxState(ts_ms) AS last_seen_state,
  groupUniqArrayArrayState(channels) AS channels_state
FROM ${qualified(db, 'disclosures')}
${where([who, edgesCondition(split.edges)])}
GROUP BY host, verdict, partner_key, site`);
  }
  const source = unionAll(parts);
  if (source === null) return null;
  return sql`SELECT host, verdict, partner_key, site,
  uniqExactMerge(requests_state) AS requests,
  minMerge(first_seen_state) AS first_seen,
  maxMerge(last_seen_state) AS last_seen,
  groupUniqArrayArrayMerge(channels_state) AS identifiers
FROM (${source})
GROUP BY host, verdict, partner_key, site`;
}

// ---------------------------------------------------------------------------------------
// affected: subscriber_daily (violations) + violations_by_time

export function affectedQuery(db: string, window: { from: number; to: number }): Sql | null {
  const split = splitWindow(window, DAY_MS);
  const parts: Sql[] = [];
  if (split.whole) {
    parts.push(sql`SELECT subscriber_hash, site, subscriber_enc_state, requests_state AS violations_state, first_seen_state, last_seen_state
FROM ${qualified(db, 'subscriber_daily')}
${where([sql`verdict != 'authorized'`, ...rangeCondition(sql`day_ms`, split.whole)])}`);
  }
  if (split.edges.length > 0) {
    parts.push(sql`SELECT subscriber_hash, site,
  maxState(subscriber_enc) AS subscriber_enc_state,
  uniqExactState(id) AS violations_state,
  minState(ts_ms) AS first_seen_state,
  maxState(ts_ms) AS last_seen_state
FROM ${qualified(db, 'violations_by_time')}
${where([sql`subscriber_hash != ''`, edgesCondition(split.edges)])}
GROUP BY subscriber_hash, site`);
  }
  const source = unionAll(parts);
  if (source === null) return null;
  return sql`SELECT subscriber_hash,
  maxMerge(subscriber_enc_state) AS subscriber_enc,
  groupUniqArray(site) AS sites,
  uniqExactMerge(violations_state) AS violations,
  minMerge(first_seen_state) AS first_seen,
  maxMerge(last_seen_state) AS last_seen
FROM (${source})
GROUP BY subscriber_hash
ORDER BY subscriber_hash`;
}
