// The read side of the embedded store as `serve` uses it: who-saw grouped in JavaScript for
// most subscribers and by DuckDB for the heaviest, with the same answer either way; several
// queries at once on a read-only store, each on its own connection; a close that waits for them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_DATA } from '../../../contract/store-contract.js';
import { WHO_SAW_ROWS_GROUPED_HERE, openDuckDbStore } from '../../../../services/store/duckdb/index.js';
import { ReadPool, numberColumnsOf } from '../../../../services/store/duckdb/read-pool.js';
import type { RecipientAggregate, StoredDisclosure, Window } from '../../../../services/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'leakscope-duckdb-read-'));
const path = join(dir, 'read.duckdb');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2012-01-10T00:00:00Z');
const HOSTS = ['www.example.com', 'm.example.com', 'ads.tracker.example'];

/** Row i of a subscriber: a host of three, a URL leak every third row, one row a second. */
function rowsOf(subscriberHash: string, n: number): StoredDisclosure[] {
  return Array.from({ length: n }, (_, i) => ({
    ...CONTRACT_DATA[0]!,
    id: `${subscriberHash}-${i}`, requestKey: `gw:${subscriberHash}:${i}`, subscriberHash, ts: T0 + i * 1_000,
    host: HOSTS[i % 3]!, site: HOSTS[i % 3]!.split('.').slice(-2).join('.'),
    channels: i % 3 === 0 ? ['header:x-msisdn', 'url'] : ['header:x-msisdn'],
  }));
}

/** What who-saw must answer, worked out from the rows themselves. */
function expected(rows: readonly StoredDisclosure[], window: Window): RecipientAggregate[] {
  const out = new Map<string, RecipientAggregate & { identifiers: string[] }>();
  for (const d of rows) {
    if ((window.from !== null && d.ts < window.from) || (window.to !== null && d.ts >= window.to)) continue;
    const g = out.get(d.host) ?? { site: d.site, host: d.host, verdict: d.verdict, partnerId: d.partnerId, requests: 0, identifiers: [], firstSeen: d.ts, lastSeen: d.ts };
    g.requests += 1;
    g.identifiers = [...new Set([...g.identifiers, ...d.channels])];
    g.firstSeen = Math.min(g.firstSeen, d.ts);
    g.lastSeen = Math.max(g.lastSeen, d.ts);
    out.set(d.host, g);
  }
  return [...out.values()];
}

const canonical = (rows: readonly RecipientAggregate[]) =>
  rows.map((r) => ({ ...r, identifiers: [...r.identifiers].sort() })).sort((a, b) => a.host.localeCompare(b.host));

const LIGHT = rowsOf('light', WHO_SAW_ROWS_GROUPED_HERE);
const HEAVY = rowsOf('heavy', WHO_SAW_ROWS_GROUPED_HERE + 1);

beforeAll(async () => {
  const store = await openDuckDbStore(path);
  await store.write([...LIGHT, ...HEAVY]);
  await store.close();
});

describe('who-saw on the embedded store', () => {
  it.each([
    ['grouped here', 'light', LIGHT],
    ['grouped by DuckDB', 'heavy', HEAVY],
  ] as const)('answers a subscriber %s with the rows\' own counts, channels and times', async (_how, hash, rows) => {
    const store = await openDuckDbStore(path, { readOnly: true });
    try {
      for (const window of [{ from: null, to: null }, { from: T0 + 10_000, to: T0 + 500_000 }] as Window[]) {
        const answer = await store.whoSaw(hash, window);
        expect(canonical(answer)).toEqual(canonical(expected(rows, window)));
      }
    } finally {
      await store.close();
    }
  });
});

describe('a read-only store', () => {
  it('runs concurrent queries on several connections and answers each as if alone', async () => {
    const store = await openDuckDbStore(path, { readOnly: true });
    try {
      const alone = await store.whoSaw('light', { from: null, to: null });
      const together = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? store.whoSaw('light', { from: null, to: null }) : store.count())));
      for (const [i, answer] of together.entries()) {
        expect(answer).toEqual(i % 2 === 0 ? alone : { disclosures: LIGHT.length + HEAVY.length, violations: LIGHT.length + HEAVY.length });
      }
    } finally {
      await store.close();
    }
  });

  it('closes only once the queries running have ended, and refuses new ones', async () => {
    const store = await openDuckDbStore(path, { readOnly: true });
    const running = Array.from({ length: 6 }, () => store.whoSaw('heavy', { from: null, to: null }));
    await store.close();
    for (const answer of await Promise.all(running)) expect(answer.reduce((n, r) => n + r.requests, 0)).toBe(HEAVY.length);
    await expect(store.count()).rejects.toThrow(/closed/);
    await store.close();
  });
});

describe('ReadPool', () => {
  it('opens at most its size of connections and hands a freed one to the next waiting query', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const pool = new ReadPool(instance, await instance.connect(), 3);
    const seen = new Set<unknown>();
    let running = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 10 }, () => pool.run(async (c) => {
      seen.add(c);
      running += 1;
      most = Math.max(most, running);
      const rows = await c.rows('SELECT $1::INTEGER + 1 AS n', [41]);
      running -= 1;
      return rows;
    })));
    expect([seen.size, most]).toEqual([3, 3]);
    await pool.close();
    await expect(pool.run(async () => 1)).rejects.toThrow(/closed/);
    instance.closeSync();
  });

  it('reads number columns over several chunks as they are, and refuses a column that is not a number', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const pool = new ReadPool(instance, connection, 2);
    const n = 5_000; // three chunks of DuckDB's 2,048 rows
    const [ids, halves, bigs] = await pool.run((c) => c.numberColumns(
      'SELECT i::INTEGER AS id, i / 2 AS half, i::BIGINT * 1000000000 AS big FROM range($1) t(i) ORDER BY i', [n]));
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(halves![4_999]).toBe(2_499.5);
    expect(bigs![4_321]).toBe(4_321_000_000_000);
    await expect(pool.run((c) => c.numberColumns(`SELECT 'x' AS text`, []))).rejects.toThrow(/column text holds string, not a number/);
    await pool.close();
    const unsafe = await instance.connect();
    await expect((async () => numberColumnsOf(await unsafe.run('SELECT 9007199254740993::BIGINT AS n')))()).rejects.toThrow(/column n holds bigint/);
    unsafe.closeSync();
    instance.closeSync();
  });
});
