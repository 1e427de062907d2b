// The baseline the scan is measured against, in the same run on the same file: the
// question answered by DuckDB alone, as a user could write it by hand — read_json over the
// NDJSON log, identity headers by name, joined to the partners' exact hosts, violations
// per host. It knows no wildcards, validity periods, spellings, URL or Referer leaks, so
// it does less work than leakscope; it is the yardstick, not an equal answer.
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync } from 'node:fs';

export interface BaselineResult {
  seconds: number;
  mbPerSec: number;
  linesPerSec: number;
  lines: number;
  hosts: number;
  violations: number;
  threads: number;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export async function benchDuckDbBaseline(ndjsonFile: string, partnerHosts: readonly string[], threads = 2): Promise<BaselineResult> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const connection = await instance.connect();
  try {
    await connection.run('CREATE TABLE partners (host VARCHAR PRIMARY KEY)');
    if (partnerHosts.length > 0) {
      await connection.run(`INSERT INTO partners VALUES ${[...new Set(partnerHosts)].map((h) => `(${literal(h)})`).join(',')}`);
    }
    const start = process.hrtime.bigint();
    const reader = await connection.runAndReadAll(`
      WITH requests AS (
        SELECT ts, msisdn,
               lower(coalesce(host, regexp_extract(url, '^[a-zA-Z]+://([^/:?#]+)', 1))) AS host,
               coalesce(json_extract_string(headers, '$."X-UP-Calling-Line-ID"'), json_extract_string(headers, '$."x-up-calling-line-id"'),
                        json_extract_string(headers, '$."X-MSISDN"'), json_extract_string(headers, '$."x-msisdn"')) AS identity
        FROM read_json(${literal(ndjsonFile)}, format = 'newline_delimited', ignore_errors = true,
                       columns = {ts: 'VARCHAR', msisdn: 'VARCHAR', url: 'VARCHAR', host: 'VARCHAR', headers: 'JSON'})
      ),
      lines AS (SELECT count(*) AS n FROM requests),
      violations AS (
        SELECT r.host, count(*) AS violations, count(DISTINCT coalesce(r.msisdn, r.identity)) AS subscribers, min(r.ts), max(r.ts)
        FROM requests r LEFT JOIN partners p ON p.host = r.host
        WHERE r.identity IS NOT NULL AND p.host IS NULL
        GROUP BY r.host
      )
      SELECT (SELECT n FROM lines) AS lines, count(*) AS hosts, coalesce(sum(violations), 0) AS violations FROM violations`);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const row = reader.getRowObjects()[0]!;
    const lines = Number(row.lines);
    const bytes = statSync(ndjsonFile).size;
    return {
      seconds, lines, hosts: Number(row.hosts), violations: Number(row.violations), threads,
      mbPerSec: bytes / 1e6 / seconds, linesPerSec: lines / seconds,
    };
  } finally {
    connection.closeSync();
  }
}
