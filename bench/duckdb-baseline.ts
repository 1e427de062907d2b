// The baseline the scan is measured against, in the same run on the same NDJSON file: the
// question of `leakscope scan` + `leakscope report --format json` answered by DuckDB alone,
// in one SQL query, as an expert who had read the README would write it:
// - headers read as a MAP, identity headers (the built-in list and the registry's) by name,
//   placeholder values (`unknown`, `-`, …) ignored;
// - the subscriber is the session's number, else the first number-carrying identity header's;
// - that number looked for, in each of its spellings (E.164 digits, 00…, 0 + national,
//   national, 44 0 national), as a whole digit run of every other header value, of the
//   Referer and of the URL, after removing spaces and dashes and percent-decoding;
// - the registry as a table, joined by exact host or (wildcards) label-boundary suffix, with
//   validity periods, and the verdict rules of the README;
// - an approximate Public Suffix List (two-label suffixes under .uk) for the site.
// Its approximations (one country's numbers, separators of spaces and dashes only, ASCII
// hosts) hold on the incident mix (incident-logs.ts); the bench compares its answer with
// leakscope's report field by field and prints no ratio when they differ.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, statSync } from 'node:fs';
import { parseRegistry } from '../services/core/registry/index.js';
import { BUILTIN_IDENTITY_HEADERS } from '../services/core/registry/index.js';
import { buildReport, type ReportJson } from '../services/store/answers.js';
import type { SiteAggregate } from '../services/store/types.js';
import type { Verdict } from '../services/core/types.js';
import { cpuMicros } from './cpu.js';

export interface BaselineResult {
  seconds: number;
  /** CPU-seconds of this process (DuckDB's threads) during the query. */
  cpuSeconds: number;
  mbPerSec: number;
  linesPerSec: number;
  lines: number;
  report: ReportJson;
  threads: number;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

const PLACEHOLDERS = ['', '-', 'unknown', 'null', 'none', 'n/a', 'na', 'undefined', '0'];

/** The query; `partners` and `identity` are tables the caller fills from the registry. */
function exactQuery(file: string, window: { from: number; to: number }): string {
  // Digit runs of a text after removing spaces and dashes: a spelling must be a whole run.
  const runs = (text: string) => `regexp_extract_all(regexp_replace(${text}, '[ \\-]', '', 'g'), '[0-9]+')`;
  return `
    WITH raw AS (
      SELECT ts, gateway_id, request_id, msisdn, url, map_entries(headers) AS hs
      FROM read_json(${literal(file)}, format = 'newline_delimited', ignore_errors = true,
        columns = {ts: 'VARCHAR', gateway_id: 'VARCHAR', request_id: 'VARCHAR', msisdn: 'VARCHAR', url: 'VARCHAR',
                   headers: 'MAP(VARCHAR, VARCHAR)'})
    ),
    ids AS (SELECT list(name) AS names, list(name) FILTER (WHERE gives_number) AS number_names FROM identity),
    requests AS (
      -- A line written twice (same request id, same time) is one request; ids repeat after a restart, times do not.
      SELECT DISTINCT ON (gateway_id, request_id, ts_ms) * FROM (
        SELECT epoch_ms(ts::TIMESTAMPTZ) AS ts_ms, gateway_id, request_id, msisdn, hs,
          rtrim(lower(regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)), '.') AS host,
          regexp_extract(url, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(.*)$', 1) AS target
        FROM raw WHERE ts IS NOT NULL)
    ),
    judged AS (
      SELECT ts_ms, host, hs, target,
        list_transform(list_filter(hs, h -> list_contains(names, lower(h.key))
            AND lower(trim(h.value)) NOT IN (${PLACEHOLDERS.map(literal).join(', ')})), h -> 'header:' || lower(h.key)) AS id_channels,
        coalesce(nullif(regexp_replace(msisdn, '[^0-9]', '', 'g'), ''),
          nullif(regexp_replace(list_filter(hs, h -> list_contains(number_names, lower(h.key))
            AND lower(trim(h.value)) NOT IN (${PLACEHOLDERS.map(literal).join(', ')}))[1].value, '[^0-9]', '', 'g'), '')) AS subscriber
      FROM requests, ids
    ),
    spelled AS (
      SELECT *, CASE WHEN subscriber IS NULL THEN [] ELSE
        [subscriber, '00' || subscriber, '0' || subscriber[3:], subscriber[3:], '440' || subscriber[3:]] END AS spellings
      FROM judged
    ),
    disclosures AS (
      SELECT ts_ms, host, subscriber, list_sort(list_distinct(id_channels || list_transform(list_filter(hs, h ->
            lower(h.key) <> 'host' AND NOT list_contains(names, lower(h.key))
            AND (list_has_any(${runs('h.value')}, spellings)
              OR list_has_any(${runs(`url_decode(CASE WHEN lower(h.key) = 'referer' THEN replace(h.value, '+', ' ') ELSE h.value END)`)}, spellings))),
            h -> CASE WHEN lower(h.key) = 'referer' THEN 'referer' ELSE 'header:' || lower(h.key) END)
          || CASE WHEN list_has_any(${runs(`url_decode(replace(target, '+', ' '))`)}, spellings) THEN ['url'] ELSE [] END)) AS channels
      FROM spelled, ids
    ),
    matched AS (
      SELECT d.*, m.entries FROM disclosures d LEFT JOIN (
        SELECT h.host, list({valid_from: p.valid_from, valid_to: p.valid_to, allowed: p.allowed}) AS entries
        FROM (SELECT DISTINCT host FROM disclosures) h JOIN partners p
          ON (NOT p.wildcard AND h.host = p.domain) OR (p.wildcard AND ends_with(h.host, '.' || p.domain))
        GROUP BY h.host) m USING (host)
      WHERE len(d.channels) > 0
    ),
    verdicts AS (
      SELECT ts_ms, host, subscriber, channels,
        CASE WHEN regexp_matches(host, '\\.(co|org|ac|gov|ltd|plc|me|net|sch)\\.uk$') THEN regexp_extract(host, '([^.]+\\.[^.]+\\.[^.]+)$', 1)
             WHEN regexp_matches(host, '\\.') THEN regexp_extract(host, '([^.]+\\.[^.]+)$', 1) ELSE host END AS site,
        CASE WHEN entries IS NULL THEN 'unauthorized_recipient'
          WHEN len(list_filter(entries, e -> (e.valid_from IS NULL OR ts_ms >= e.valid_from) AND (e.valid_to IS NULL OR ts_ms < e.valid_to)
            AND list_has_all(e.allowed, channels))) > 0 THEN 'authorized'
          WHEN len(list_filter(entries, e -> (e.valid_from IS NULL OR ts_ms >= e.valid_from) AND (e.valid_to IS NULL OR ts_ms < e.valid_to))) > 0
            THEN 'identifier_not_allowed'
          ELSE 'partner_inactive' END AS verdict
      FROM matched
    ),
    violations AS (SELECT * FROM verdicts WHERE verdict <> 'authorized' AND ts_ms >= ${window.from} AND ts_ms < ${window.to}),
    by_site AS (
      SELECT site, count(*) AS violations, count(DISTINCT subscriber) AS subscribers, min(ts_ms) AS first_seen, max(ts_ms) AS last_seen,
        list(DISTINCT host) AS hosts, list_distinct(flatten(list(channels))) AS identifiers
      FROM violations GROUP BY site
    ),
    site_verdicts AS (
      SELECT site, list(verdict) AS verdicts, list(n) AS counts FROM (SELECT site, verdict, count(*) AS n FROM violations GROUP BY site, verdict) GROUP BY site
    )
    SELECT
      (SELECT count(*) FROM raw) AS lines,
      (SELECT {violations: count(*), subscribers: count(DISTINCT subscriber), sites: count(DISTINCT site)} FROM violations) AS totals,
      (SELECT list({site: site, violations: violations, subscribers: subscribers, first_seen: first_seen, last_seen: last_seen,
                    hosts: hosts, identifiers: identifiers, verdicts: verdicts, counts: counts}) FROM by_site JOIN site_verdicts USING (site)) AS sites,
      (SELECT list({bucket: bucket, violations: n}) FROM (SELECT (ts_ms // 3600000) * 3600000 AS bucket, count(*) AS n FROM violations GROUP BY bucket)) AS timeline`;
}

function cpuSeconds(): number {
  return cpuMicros() / 1e6;
}

/** Runs the exact query over `ndjsonFile` with the registry at `registryPath`; returns its report and its time. */
export async function benchDuckDbBaseline(ndjsonFile: string, registryPath: string, window: { from: number; to: number }, threads = 2): Promise<BaselineResult> {
  const registry = parseRegistry(readFileSync(registryPath, 'utf8'), registryPath);
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const connection = await instance.connect();
  try {
    await connection.run('CREATE TABLE partners (domain VARCHAR, wildcard BOOLEAN, valid_from BIGINT, valid_to BIGINT, allowed VARCHAR[])');
    await connection.run('CREATE TABLE identity (name VARCHAR, gives_number BOOLEAN)');
    const rows = registry.partners.flatMap((p) => p.domains.map((d) => {
      const allowed = p.identifiers.map((id) => (id === 'url' || id === 'referer' ? id : `header:${id}`));
      return `(${literal(d.replace(/^\*\./, '').toLowerCase())}, ${d.startsWith('*.')}, ${p.validFrom ?? 'NULL'}, ${p.validTo ?? 'NULL'}, [${allowed.map(literal).join(', ')}]::VARCHAR[])`;
    }));
    if (rows.length > 0) await connection.run(`INSERT INTO partners VALUES ${rows.join(', ')}`);
    const identity = [
      ...BUILTIN_IDENTITY_HEADERS.map((h) => [h.name, h.kind !== 'token' && h.kind !== 'imsi'] as const),
      ...registry.identityHeaders.filter((n) => !BUILTIN_IDENTITY_HEADERS.some((h) => h.name === n)).map((n) => [n, true] as const),
    ];
    await connection.run(`INSERT INTO identity VALUES ${identity.map(([n, g]) => `(${literal(n)}, ${g})`).join(', ')}`);
    const cpuStart = cpuSeconds();
    const start = process.hrtime.bigint();
    const reader = await connection.runAndReadAll(exactQuery(ndjsonFile, window));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = cpuSeconds() - cpuStart;
    const row = reader.getRowObjectsJS()[0]!;
    const totals = row['totals'] as Record<string, bigint | number>;
    type SiteRow = { site: string; violations: number; subscribers: number; first_seen: number; last_seen: number; hosts: string[]; identifiers: string[]; verdicts: string[]; counts: number[] };
    const sites: SiteAggregate[] = ((row['sites'] as SiteRow[] | null) ?? []).map((s) => ({
      site: s.site, hosts: s.hosts, violations: Number(s.violations), subscribers: Number(s.subscribers),
      firstSeen: Number(s.first_seen), lastSeen: Number(s.last_seen), identifiers: s.identifiers as SiteAggregate['identifiers'],
      verdicts: Object.fromEntries(s.verdicts.map((v, i) => [v as Verdict, Number(s.counts[i])])),
    }));
    const timeline = ((row['timeline'] as Array<{ bucket: number; violations: number }> | null) ?? []).map((b) => ({ bucket: Number(b.bucket), violations: Number(b.violations) }));
    const report = buildReport(window, {
      totals: { violations: Number(totals['violations']), subscribers: Number(totals['subscribers']), sites: Number(totals['sites']) },
      sites, timeline,
    });
    const lines = Number(row['lines']);
    const bytes = statSync(ndjsonFile).size;
    return { seconds, cpuSeconds: cpu, lines, report, threads, mbPerSec: bytes / 1e6 / seconds, linesPerSec: lines / seconds };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
