// The ClickHouse store's query latency at volume: N disclosures over 15 days inserted through
// store.write (replaying 10 % of the batches, as a detector after a crash would), then the
// 15-day report and who-saw timed, p50/p99, against the same report computed by hand from
// the raw table (uniqExact over `disclosures`) in the same run — the yardstick the rollups
// must beat. Uses its own database, dropped at the end. On a server (CLICKHOUSE_URL) and on
// ClickHouse in-process (chdb:PATH).
import { randomBytes } from 'node:crypto';
import { VERDICTS } from '../services/core/types.js';
import type { StoredDisclosure } from '../services/store/types.js';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { isChdbUrl, migrateClickHouse, openClickHouseStore } from '../services/store/clickhouse/index.js';
import { chdbConnection } from '../services/store/clickhouse/chdb.js';
import { clickhouseConfig } from '../services/store/clickhouse/config.js';

export interface LatencyResult { p50Ms: number; p99Ms: number; runs: number }

export interface ClickHouseBenchResult {
  server: string;
  disclosures: number;
  subscribers: number;
  sites: number;
  insertSeconds: number;
  insertRowsPerSec: number;
  report15d: LatencyResult;
  reportRagged: LatencyResult;
  rawReport15d: LatencyResult;
  whoSaw: LatencyResult;
  whoSawRagged: LatencyResult;
  rowsBy: Record<string, number>;
}

const H = 3_600_000;
const D = 24 * H;
const START = Date.parse('2012-01-10T00:00:00.000Z');

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function batchOf(from: number, count: number, subscribers: number, sites: number, random: () => number): StoredDisclosure[] {
  const out: StoredDisclosure[] = [];
  for (let i = from; i < from + count; i++) {
    const sub = Math.floor(random() ** 2 * subscribers);
    const site = `site${Math.floor(random() ** 3 * sites)}.co.uk`;
    const verdict = VERDICTS[random() < 0.2 ? 0 : 1 + Math.floor(random() * 3)]!;
    out.push({
      id: `bench-${i}`, requestKey: `gw:${i}`, ts: START + Math.floor(random() * 15 * D), host: `www.${site}`, site,
      subscriberHash: sub.toString(16).padStart(64, '0'), subscriberMasked: '+4477009****00', subscriberEnc: `v1:${sub}`,
      channels: random() < 0.7 ? ['header:x-up-calling-line-id'] : ['header:x-msisdn', 'url'], verdict,
      partnerId: verdict === 'unauthorized_recipient' ? null : `p${Math.floor(random() * 200)}`, registryVersion: 'bench',
      gatewayId: 'gw-lon-01', bearer: '3g', method: 'GET', scheme: 'http', path: '/news', queryMasked: 'id=1', status: 200,
    });
  }
  return out;
}

export async function time(runs: number, fn: (i: number) => Promise<unknown>): Promise<LatencyResult> {
  const ms: number[] = [];
  await fn(0); // warm-up
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
  return { p50Ms: Math.round(at(0.5) * 10) / 10, p99Ms: Math.round(at(0.99) * 10) / 10, runs };
}

/** A raw client for the yardstick queries, on the same server (or chdb engine) as the store. */
export function rawClient(url: string): ClickHouseClient {
  const config = clickhouseConfig(url);
  return config.kind === 'chdb'
    ? createClient({ connection: chdbConnection(config.chdbPath!) })
    : createClient({ url: config.endpoint!, request_timeout: 300_000 });
}

export async function post(client: ClickHouseClient, query: string): Promise<string> {
  const result = await client.exec({ query });
  const chunks: Buffer[] = [];
  for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** The store URL of database `db` on the ClickHouse of `url` (a server, or chdb:PATH). */
function databaseUrl(url: string, db: string): string {
  return isChdbUrl(url) ? `${url.split('?', 1)[0]}?database=${db}` : new URL(`/${db}`, url).toString();
}

/** `url` is a ClickHouse server or chdb:PATH (its database is ignored: a fresh one is used and dropped). */
export async function benchClickHouseReport(
  url: string,
  options: { disclosures?: number; subscribers?: number; sites?: number; batch?: number; runs?: number; database?: string; keep?: boolean } = {},
): Promise<ClickHouseBenchResult> {
  const n = options.disclosures ?? 1_000_000;
  const subscribers = options.subscribers ?? 200_000;
  const sites = options.sites ?? 20_000;
  const batch = options.batch ?? 50_000;
  const runs = options.runs ?? 30;
  const db = options.database ?? `lk_bench_${randomBytes(4).toString('hex')}`;
  const base = rawClient(url);
  const dbUrl = databaseUrl(url, db);
  const migrated = await migrateClickHouse(dbUrl);
  const store = await openClickHouseStore(dbUrl, { maxRowsPerInsert: batch, requestTimeoutMs: 300_000 });
  try {
    const random = lcg(11);
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i += batch) {
      const rows = batchOf(i, Math.min(batch, n - i), subscribers, sites, random);
      await store.write(rows);
      if ((i / batch) % 10 === 3) await store.write(rows); // a replayed batch
    }
    const insertSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    const full = { from: START, to: START + 15 * D };
    const r = lcg(5);
    const ragged = () => ({ from: START + Math.floor(r() * D), to: START + 14 * D + Math.floor(r() * D) });
    const hashOf = (i: number) => Math.floor(lcg(i + 1)() ** 2 * subscribers).toString(16).padStart(64, '0');
    const result: ClickHouseBenchResult = {
      server: migrated.server.text,
      disclosures: n,
      subscribers,
      sites,
      insertSeconds: Math.round(insertSeconds * 100) / 100,
      insertRowsPerSec: Math.round((n * 1.1) / insertSeconds),
      report15d: await time(runs, () => store.report(full)),
      reportRagged: await time(runs, () => store.report(ragged())),
      rawReport15d: await time(Math.min(runs, 10), () => Promise.all([
        post(base, `SELECT site, uniqExact(id), uniqExactIf(subscriber_hash, subscriber_hash != ''), min(ts_ms), max(ts_ms), groupUniqArray(host), groupUniqArrayArray(channels)
          FROM ${db}.disclosures WHERE verdict != 'authorized' AND ts_ms >= ${full.from} AND ts_ms < ${full.to} GROUP BY site FORMAT Null`),
        post(base, `SELECT intDiv(ts_ms, 3600000), uniqExact(id) FROM ${db}.disclosures WHERE verdict != 'authorized' AND ts_ms >= ${full.from} AND ts_ms < ${full.to} GROUP BY intDiv(ts_ms, 3600000) FORMAT Null`),
      ])),
      whoSaw: await time(runs * 3, (i) => store.whoSaw(hashOf(i), { from: null, to: null })),
      whoSawRagged: await time(runs * 3, (i) => store.whoSaw(hashOf(i), { from: START + 5 * H + 17, to: START + 12 * D + 3 })),
      rowsBy: {},
    };
    for (const table of ['disclosures', 'violations_by_time', 'site_hourly', 'site_daily', 'subscriber_daily']) {
      result.rowsBy[table] = Number((await post(base, `SELECT count() FROM ${db}.${table}`)).trim());
    }
    return result;
  } finally {
    await store.close();
    if (!options.keep) await post(base, `DROP DATABASE IF EXISTS ${db}`);
    await base.close();
  }
}
