// The in-memory who-saw index of a read-only store (services/store/duckdb/who-saw-index.ts):
// it answers exactly what DuckDB answers for many subscribers and windows, and a store written
// after the index was read (re-judged rows, rows removed by a writer that knows nothing of the
// generation) is never answered from it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_DATA } from '../../../contract/store-contract.js';
import { openDuckDbStore, type DuckDbStore } from '../../../../services/store/duckdb/index.js';
import { whoSawIndexStatus, type WhoSawIndexStatus } from '../../../../services/store/duckdb/who-saw-index.js';
import { partitionOf, partitionTable } from '../../../../services/store/duckdb/who-saw-layout.js';
import type { StoredDisclosure, Window } from '../../../../services/store/types.js';
import type { Verdict } from '../../../../services/core/types.js';
import { buildWhoSaw } from '../../../../services/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'leakscope-duckdb-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `s${files++}.duckdb`);

const T0 = Date.parse('2012-01-10T00:00:00Z');
const VERDICTS: Verdict[] = ['authorized', 'unauthorized_recipient', 'identifier_not_allowed', 'partner_inactive'];

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

function hashOf(k: number): string {
  return `${(k * 2_654_435_761 >>> 0).toString(16).padStart(8, '0')}${k.toString(16).padStart(56, '0')}`;
}

/** Rows of `subscribers` subscribers over a few hosts, verdicts and channels, times often repeated (window edges). */
function rows(subscribers: number, seed: number): StoredDisclosure[] {
  const next = random(seed);
  const out: StoredDisclosure[] = [];
  for (let k = 0; k < subscribers; k++) {
    const n = Math.floor(next() * 12); // some subscribers have none... but are never written then
    for (let i = 0; i < n; i++) {
      const site = `site${Math.floor(next() * 5)}.example`;
      const verdict = VERDICTS[Math.floor(next() * VERDICTS.length)]!;
      out.push({
        ...CONTRACT_DATA[0]!, id: `${k}-${i}`, requestKey: `gw:${k}:${i}`, subscriberHash: hashOf(k),
        ts: T0 + Math.floor(next() * 40) * 60_000, site, host: `${next() < 0.5 ? 'www' : 'm'}.${site}`, verdict,
        partnerId: verdict === 'unauthorized_recipient' ? null : `p${Math.floor(next() * 2)}`,
        channels: next() < 0.3 ? ['url', 'header:x-msisdn'] : ['header:x-msisdn'],
      });
    }
  }
  return out;
}

const WINDOWS: Window[] = [
  { from: null, to: null },
  { from: T0, to: null },
  { from: null, to: T0 + 20 * 60_000 },
  { from: T0 + 10 * 60_000, to: T0 + 10 * 60_000 }, // empty
  { from: T0 + 10 * 60_000, to: T0 + 10 * 60_000 + 1 }, // one instant, an edge of many rows
  { from: T0 + 10 * 60_000 + 1, to: T0 + 30 * 60_000 },
  { from: T0 + 39 * 60_000, to: T0 + 41 * 60_000 },
  { from: T0 + 50 * 60_000, to: null }, // after every row
  { from: T0 + 30 * 60_000, to: T0 }, // to before from
];

async function indexReady(): Promise<WhoSawIndexStatus> {
  for (let i = 0; i < 500; i++) {
    const status = whoSawIndexStatus();
    if (status !== null && status.state !== 'building') return status;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the who-saw index was not read within 5 s');
}

/** The answers as the CLI and the API print them (buildWhoSaw orders the recipients; the store's order is not an answer). */
async function answers(store: DuckDbStore, hashes: readonly string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const h of hashes) for (const w of WINDOWS) out.push(buildWhoSaw('+4477009****23', w, await store.whoSaw(h, w)).recipients);
  return out;
}

async function onFile(path: string, sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
}

const SUBSCRIBERS = 200;
const hashes = [...Array.from({ length: SUBSCRIBERS }, (_, k) => hashOf(k)), hashOf(99_999), '', 'ff'];

describe('the in-memory who-saw index', () => {
  it('answers every subscriber and window exactly as DuckDB does, a subscriber without rows included', async () => {
    const path = newPath();
    const writer = await openDuckDbStore(path);
    await writer.write(rows(SUBSCRIBERS, 1));
    await writer.close();

    const plain = await openDuckDbStore(path, { readOnly: true });
    const expected = await answers(plain, hashes);
    await plain.close();

    const indexed = await openDuckDbStore(path, { readOnly: true, whoSawIndexMaxRows: 1_000_000 });
    const ready = await indexReady();
    expect(ready.state).toBe('ready');
    expect(ready.rows).toBe(rows(SUBSCRIBERS, 1).length);
    const before = ready.answersFromIndex;
    expect(await answers(indexed, hashes)).toEqual(expected);
    expect(whoSawIndexStatus()!.answersFromIndex - before).toBe(hashes.length * WINDOWS.length);
    await indexed.close();
    // Some answers are empty, some are not: the comparison is not of empty lists only.
    expect(expected.filter((a) => (a as unknown[]).length === 0).length).toBeGreaterThan(SUBSCRIBERS / 10);
    expect(expected.filter((a) => (a as unknown[]).length > 3).length).toBeGreaterThan(SUBSCRIBERS / 10);
  });

  it('is not used once a scan re-judged the store, and is read again for the new content', async () => {
    const path = newPath();
    const first = rows(SUBSCRIBERS, 2);
    let writer = await openDuckDbStore(path);
    await writer.write(first);
    await writer.close();
    const indexed = await openDuckDbStore(path, { readOnly: true, whoSawIndexMaxRows: 1_000_000 });
    expect((await indexReady()).state).toBe('ready');
    const old = await indexed.whoSaw(hashOf(3), { from: null, to: null });
    await indexed.close();

    // The same requests judged again under another registry: every verdict changes.
    writer = await openDuckDbStore(path);
    await writer.write(first.map((d) => ({ ...d, registryVersion: 'r2', verdict: 'partner_inactive' as const, partnerId: 'p9' })));
    await writer.close();
    const plain = await openDuckDbStore(path, { readOnly: true });
    const expected = await answers(plain, hashes);
    await plain.close();

    const reopened = await openDuckDbStore(path, { readOnly: true, whoSawIndexMaxRows: 1_000_000 });
    const fromStore = whoSawIndexStatus()!.answersFromStore;
    const answer = await reopened.whoSaw(hashOf(3), { from: null, to: null });
    expect(answer.length).toBeGreaterThan(0);
    expect(answer).not.toEqual(old);
    expect(answer.map((r) => r.verdict)).toEqual(answer.map(() => 'partner_inactive'));
    expect(buildWhoSaw('+4477009****23', { from: null, to: null }, answer).recipients).toEqual(expected[3 * WINDOWS.length]);
    expect((await indexReady()).state).toBe('ready');
    expect(whoSawIndexStatus()!.answersFromStore).toBeGreaterThan(fromStore);
    expect(await answers(reopened, hashes)).toEqual(expected);
    await reopened.close();
  });

  it('is not used after a writer that knows nothing of the generation removed rows', async () => {
    const path = newPath();
    const writer = await openDuckDbStore(path);
    await writer.write(rows(SUBSCRIBERS, 3));
    await writer.close();
    const indexed = await openDuckDbStore(path, { readOnly: true, whoSawIndexMaxRows: 1_000_000 });
    expect((await indexReady()).state).toBe('ready');
    const target = hashes.find((h) => h !== '' && rows(SUBSCRIBERS, 3).some((d) => d.subscriberHash === h))!;
    expect((await indexed.whoSaw(target, { from: null, to: null })).length).toBeGreaterThan(0);
    await indexed.close();

    // Plain SQL, as a hand-made repair would: the generation is left as it was.
    await onFile(path, `DELETE FROM ${partitionTable(partitionOf(target))} WHERE subscriber_hash = '${target}'; DELETE FROM disclosures WHERE subscriber_hash = '${target}'`);
    const reopened = await openDuckDbStore(path, { readOnly: true, whoSawIndexMaxRows: 1_000_000 });
    expect(await reopened.whoSaw(target, { from: null, to: null })).toEqual([]);
    expect((await indexReady()).state).toBe('ready');
    expect(await reopened.whoSaw(target, { from: null, to: null })).toEqual([]);
    await reopened.close();
  });

  it('is not built for a store with more rows than its bound, and DuckDB answers', async () => {
    const path = newPath();
    const writer = await openDuckDbStore(path);
    await writer.write(rows(20, 4));
    await writer.close();
    const plain = await openDuckDbStore(path, { readOnly: true });
    const expected = await answers(plain, hashes.slice(0, 20));
    await plain.close();
    const bounded = await openDuckDbStore(path, { readOnly: true, whoSawIndexMaxRows: 10 });
    const status = await indexReady();
    expect([status.state, status.rows]).toEqual(['too_large', 0]);
    const fromStore = status.answersFromStore;
    expect(await answers(bounded, hashes.slice(0, 20))).toEqual(expected);
    expect(whoSawIndexStatus()!.answersFromStore - fromStore).toBe(20 * WINDOWS.length);
    await bounded.close();
  });
});
