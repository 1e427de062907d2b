// The who-saw layout of the embedded store (services/store/duckdb/who-saw-layout.ts): every
// subscriber hash finds its partition, the narrow copy holds exactly the stored rows through
// repeats and re-judged rescans, a store written before the layout is answered from its rows
// and given the layout on its next writable open, and recipients added later are found.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_DATA } from '../../../contract/store-contract.js';
import { openDuckDbStore } from '../../../../services/store/duckdb/index.js';
import { LAYOUT_META_KEY, WHO_SAW_PARTITIONS, partitionOf, partitionTable } from '../../../../services/store/duckdb/who-saw-layout.js';
import type { StoredDisclosure } from '../../../../services/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'leakscope-duckdb-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `s${files++}.duckdb`);

const T0 = Date.parse('2012-01-10T00:00:00Z');
const ALL = { from: null, to: null };

function row(subscriberHash: string, i: number, over: Partial<StoredDisclosure> = {}): StoredDisclosure {
  return { ...CONTRACT_DATA[0]!, id: `${subscriberHash}-${i}`, requestKey: `gw:${subscriberHash}:${i}`, subscriberHash, ts: T0 + i * 1_000, ...over };
}

/** Runs `sql` on the closed store file and returns its first column of every row. */
async function column(path: string, sql: string): Promise<unknown[]> {
  const instance = await DuckDBInstance.create(path);
  try {
    const connection = await instance.connect();
    const rows = (await connection.runAndReadAll(sql)).getRows().map((r) => r[0]);
    connection.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

const narrowCount = (path: string) => column(path,
  Array.from({ length: WHO_SAW_PARTITIONS }, (_, i) => `SELECT count(*) FROM ${partitionTable(i)}`).join(' UNION ALL '))
  .then((counts) => counts.reduce<number>((n, c) => n + Number(c), 0));

describe('the who-saw layout', () => {
  it('puts every subscriber hash in a partition its lookup reads, whatever its first characters', async () => {
    const hashes = [
      ...Array.from({ length: 96 }, (_, i) => createHash('sha256').update(String(i)).digest('hex')),
      '', '0', '00', '07', '08', 'f8', 'ff', 'fg', 'light', 'ZZZ', 'ÿ', '\u{1F600}',
    ];
    expect(new Set(hashes.map(partitionOf)).size).toBe(WHO_SAW_PARTITIONS);
    const path = newPath();
    const store = await openDuckDbStore(path);
    await store.write(hashes.flatMap((h, k) => [row(h, 2 * k), row(h, 2 * k + 1, { host: `h${k}.example`, site: `h${k}.example` })]));
    for (const [k, h] of hashes.entries()) {
      const answer = await store.whoSaw(h, ALL);
      expect(answer.map((r) => [r.host, r.requests]).sort()).toEqual([[CONTRACT_DATA[0]!.host, 1], [`h${k}.example`, 1]].sort());
    }
    await store.close();
    expect(await narrowCount(path)).toBe(hashes.length * 2);
  });

  it('holds exactly the stored rows with a subscriber hash after repeated and re-judged batches', async () => {
    const path = newPath();
    const store = await openDuckDbStore(path);
    const first = [row('a1', 1), row('a1', 2), row('b2', 3), { ...row('x', 4), subscriberHash: null }];
    await store.write(first);
    await store.write(first);
    // The same requests judged under another registry: the old rows (and their copies) go.
    await store.write(first.map((d) => ({ ...d, registryVersion: 'r2', verdict: 'partner_inactive' as const, partnerId: 'p' })));
    const answer = await store.whoSaw('a1', ALL);
    expect(answer.map((r) => [r.verdict, r.partnerId, r.requests])).toEqual([['partner_inactive', 'p', 2]]);
    expect(await store.count()).toEqual({ disclosures: 4, violations: 4 });
    await store.close();
    expect(await narrowCount(path)).toBe(3);
  });

  it('stores each request once, with its narrow copy, whether a batch is new, repeats itself, or is partly or wholly stored', async () => {
    const path = newPath();
    const store = await openDuckDbStore(path);
    await store.write([row('d4', 1), row('d4', 2)]); // new and each once: moved in as staged
    await store.write([row('d4', 3), row('d4', 3), row('e5', 4)]); // a request twice in one batch
    await store.write([row('d4', 2), row('e5', 5)]); // one stored, one new
    await store.write([row('d4', 1), row('e5', 4), row('e5', 4)]); // all stored already
    expect((await store.whoSaw('d4', ALL)).map((r) => r.requests)).toEqual([3]);
    expect((await store.whoSaw('e5', ALL)).map((r) => r.requests)).toEqual([2]);
    expect(await store.count()).toEqual({ disclosures: 5, violations: 5 });
    await store.close();
    expect(await narrowCount(path)).toBe(5);
    expect(await column(path, `SELECT count(*) FROM (SELECT DISTINCT id, ts_ms FROM disclosures)`)).toEqual([5n]);
  });

  it('finds a recipient added after its cache was filled', async () => {
    const store = await openDuckDbStore(newPath());
    await store.write([row('c3', 1)]);
    expect((await store.whoSaw('c3', ALL)).map((r) => r.host)).toEqual([CONTRACT_DATA[0]!.host]);
    await store.write([row('c3', 2, { host: 'new.example', site: 'new.example' })]);
    expect((await store.whoSaw('c3', ALL)).map((r) => r.host).sort()).toEqual([CONTRACT_DATA[0]!.host, 'new.example'].sort());
    await store.close();
  });

  it('answers a store written before the layout from its rows, and gives it the layout on the next writable open', async () => {
    const path = newPath();
    const rows = [row('d4', 1), row('d4', 2, { channels: ['url'] }), row('e5', 3)];
    const store = await openDuckDbStore(path);
    await store.write(rows);
    const expected = await store.whoSaw('d4', ALL);
    await store.close();
    // What an older leakscope left: no layout, the subscriber index on disclosures.
    await column(path, `${Array.from({ length: WHO_SAW_PARTITIONS }, (_, i) => `DROP TABLE ${partitionTable(i)}; `).join('')}
      DROP TABLE recipients; DELETE FROM meta WHERE key = '${LAYOUT_META_KEY}'; CREATE INDEX disclosures_subscriber ON disclosures (subscriber_hash); SELECT 1`);

    const old = await openDuckDbStore(path, { readOnly: true });
    expect(await old.whoSaw('d4', ALL)).toEqual(expected);
    await old.close();

    await (await openDuckDbStore(path)).close();
    expect(await column(path, `SELECT value FROM meta WHERE key = '${LAYOUT_META_KEY}'`)).toEqual(['1']);
    expect(await column(path, `SELECT index_name FROM duckdb_indexes() WHERE table_name = 'disclosures'`)).toEqual([]);
    expect(await narrowCount(path)).toBe(rows.length);
    const filled = await openDuckDbStore(path, { readOnly: true });
    expect(await filled.whoSaw('d4', ALL)).toEqual(expected);
    await filled.close();
  });

  it('fills a first scan\'s layout when it finishes, answers who-saw from its rows until then, and fills it on the next writable open after a kill', async () => {
    const indexedPartitions = (path: string) => column(path, `SELECT count(*) FROM duckdb_indexes() WHERE table_name LIKE 'who_saw_%'`).then((n) => Number(n[0]));
    const rows = [row('a1', 1), row('b2', 2), row('b2', 3, { host: 'other.example', site: 'other.example' }), row('f3', 4)];
    const path = newPath();
    const store = await openDuckDbStore(path);
    const scan = await store.beginScan(['a.log'], T0);
    await store.write(rows);
    const during = await store.whoSaw('b2', ALL);
    await store.finishScan(scan, T0 + 1, 'done', { lines: 4, requests: 4, disclosures: 4, violations: 4, rejected: 0 });
    const expected = await store.whoSaw('b2', ALL);
    await store.close();
    expect(expected.map((r) => [r.host, r.requests]).sort()).toEqual([[CONTRACT_DATA[0]!.host, 1], ['other.example', 1]].sort());
    expect(during).toEqual(expected);
    expect(await column(path, `SELECT value FROM meta WHERE key = '${LAYOUT_META_KEY}'`)).toEqual(['1']);
    expect(await narrowCount(path)).toBe(rows.length);
    expect(await indexedPartitions(path)).toBe(WHO_SAW_PARTITIONS);

    // What a first scan killed before finishScan leaves: its rows, no layout.
    await column(path, `${Array.from({ length: WHO_SAW_PARTITIONS }, (_, i) => `DELETE FROM ${partitionTable(i)}; `).join('')}
      DELETE FROM recipients; DELETE FROM meta WHERE key = '${LAYOUT_META_KEY}'; SELECT 1`);
    const reader = await openDuckDbStore(path, { readOnly: true });
    expect(await reader.whoSaw('b2', ALL)).toEqual(expected);
    await reader.close();
    await (await openDuckDbStore(path)).close();
    expect(await narrowCount(path)).toBe(rows.length);
    const filled = await openDuckDbStore(path, { readOnly: true });
    expect(await filled.whoSaw('b2', ALL)).toEqual(expected);
    await filled.close();
  });

  it('answers who-saw exactly during and after a scan into a store that already holds rows', async () => {
    const path = newPath();
    const store = await openDuckDbStore(path);
    await store.write([row('c3', 1)]);
    const scan = await store.beginScan(['b.log'], T0);
    await store.write([row('c3', 2, { host: 'later.example', site: 'later.example' })]);
    expect((await store.whoSaw('c3', ALL)).map((r) => r.host).sort()).toEqual([CONTRACT_DATA[0]!.host, 'later.example'].sort());
    await store.finishScan(scan, T0 + 1, 'done', { lines: 1, requests: 1, disclosures: 1, violations: 1, rejected: 0 });
    await store.close();
    expect(await column(path, `SELECT value FROM meta WHERE key = '${LAYOUT_META_KEY}'`)).toEqual(['1']);
    expect(await narrowCount(path)).toBe(2);
  });
});
