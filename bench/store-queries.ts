// Query latency of the embedded store at breach scale: 10 million stored disclosures over
// a month, a 15-day exposure report and who-saw lookups (p50/p99) through the same
// DisclosureStore the CLI uses. Rows are generated inside DuckDB, which is far faster than
// scanning logs to make them; their shape follows what scan stores.
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckDbStore } from '../services/store/duckdb/index.js';
import { LAYOUT_META_KEY } from '../services/store/duckdb/who-saw-layout.js';

export interface StoreQueryBenchResult {
  rows: number;
  fillSeconds: number;
  report15DaysMs: number;
  whoSawP50Ms: number;
  whoSawP99Ms: number;
  lookups: number;
}

const T0 = Date.parse('2012-01-01T00:00:00Z');
const MONTH_MS = 31 * 24 * 3_600_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

/**
 * Creates the store at `path` and fills it with `rows` disclosures of `subscribers`
 * subscribers over January 2012, in random subscriber order (as a scan's time-ordered appends
 * leave them); subscriber k's hash is `subscriberHashes[k]` when given, else md5('s' || k).
 * The who-saw layout is then filled by the store itself (its code for stores written before
 * the layout), copying the rows in that stored order. Returns the seconds of both steps.
 */
export async function fillBenchStore(path: string, rows: number, subscribers: number, subscriberHashes?: readonly string[]): Promise<{ fillSeconds: number; layoutSeconds: number }> {
  await (await openDuckDbStore(path)).close(); // creates the schema exactly as scan does
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  let hashOf = `md5('s' || (hash(i * 13) % ${subscribers}))`;
  if (subscriberHashes !== undefined) {
    if (subscriberHashes.length !== subscribers) throw new Error(`fillBenchStore: ${subscriberHashes.length} hashes for ${subscribers} subscribers`);
    await connection.run(`CREATE TABLE bench_subs (k UBIGINT, h VARCHAR)`);
    const appender = await connection.createAppender('bench_subs');
    subscriberHashes.forEach((h, k) => { appender.appendUBigInt(BigInt(k)); appender.appendVarchar(h); appender.endRow(); });
    appender.closeSync();
    hashOf = `(SELECT h FROM bench_subs WHERE k = hash(i * 13) % ${subscribers})`;
  }
  const fillStart = process.hrtime.bigint();
  await connection.run(`
    INSERT INTO disclosures
    SELECT md5(i::VARCHAR) AS id, 'gw:' || i AS request_key,
           ${T0} + (hash(i) % ${MONTH_MS})::BIGINT AS ts_ms,
           'www' || (i % 7) || '.site' || (hash(i * 7) % 3000) || '.co.uk' AS host,
           'site' || (hash(i * 7) % 3000) || '.co.uk' AS site,
           ${hashOf} AS subscriber_hash,
           '+4477009****' || lpad(((hash(i * 13) % ${subscribers}) % 100)::VARCHAR, 2, '0') AS subscriber_masked,
           'v1:' || md5('e' || i) AS subscriber_enc,
           CASE WHEN i % 10 = 0 THEN ['header:x-up-calling-line-id', 'url'] ELSE ['header:x-up-calling-line-id'] END AS channels,
           CASE WHEN i % 5 = 0 THEN 'authorized' ELSE 'unauthorized_recipient' END AS verdict,
           CASE WHEN i % 5 = 0 THEN 'ageverify' ELSE NULL END AS partner_id,
           'bench' AS registry_version, 'gw-lon-01' AS gateway_id, '3g' AS bearer, 'GET' AS method, 'http' AS scheme,
           '/news' AS path, 'id=1' AS query_masked, 200 AS status
    FROM range(${rows}) t(i)`);
  const fillSeconds = Number(process.hrtime.bigint() - fillStart) / 1e9;
  await connection.run(`DROP TABLE IF EXISTS bench_subs`);
  await connection.run(`DELETE FROM meta WHERE key = '${LAYOUT_META_KEY}'`);
  connection.closeSync();
  instance.closeSync();
  const layoutStart = process.hrtime.bigint();
  await (await openDuckDbStore(path)).close();
  return { fillSeconds, layoutSeconds: Number(process.hrtime.bigint() - layoutStart) / 1e9 };
}

export async function benchStoreQueries(rows = 10_000_000, subscribers = 200_000, lookups = 200): Promise<StoreQueryBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'leakscope-bench-store-'));
  const path = join(dir, 'bench.duckdb');
  try {
    const { fillSeconds } = await fillBenchStore(path, rows, subscribers);
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    const hashes = (await connection.runAndReadAll(
      `SELECT md5('s' || (hash(i * 104729) % ${subscribers})) FROM range(${lookups}) t(i)`)).getRows().map((r) => String(r[0]));
    connection.closeSync();

    const store = await openDuckDbStore(path, { readOnly: true });
    try {
      const from = Date.parse('2012-01-10T00:00:00Z');
      let start = process.hrtime.bigint();
      await store.report({ from, to: from + 15 * 24 * 3_600_000 });
      const report15DaysMs = Number(process.hrtime.bigint() - start) / 1e6;
      const latencies: number[] = [];
      for (const hash of hashes) {
        start = process.hrtime.bigint();
        await store.whoSaw(hash, { from: null, to: null });
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      latencies.sort((a, b) => a - b);
      return {
        rows, fillSeconds, report15DaysMs, lookups,
        whoSawP50Ms: percentile(latencies, 0.5), whoSawP99Ms: percentile(latencies, 0.99),
      };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
