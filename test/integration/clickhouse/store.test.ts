// The ClickHouse store against the real server (deploy/local/stack): the shared store
// contract, plus what is particular to ClickHouse — replays counting once before and after
// merges, idempotent migrations, hostile text round-tripping, reads that avoid the raw table,
// and errors that say whether to retry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeStoreContract, CONTRACT_DATA } from '../../contract/store-contract.js';
import { clickhouseDatabase, clickhouseQuery, clickhouseRows, clickhouseTargets, uniqueName } from '../support/servers.js';
import { buildReport, buildWhoSaw } from '../../../services/store/answers.js';
import type { DisclosureStore, StoredDisclosure } from '../../../services/store/types.js';
import { LeakscopeError } from '../../../services/core/errors.js';
import { DISCLOSURE_COLUMNS } from '../../../services/store/columns.js';
import {
  clickhouseVersion, migrateClickHouse, openClickHouseStore, LATEST_VERSION, MIGRATIONS,
} from '../../../services/store/clickhouse/index.js';

const H = 3_600_000;
const T0 = Date.parse('2012-01-10T09:00:00.000Z');
const WINDOW = { from: T0, to: T0 + 24 * H };
const A = 'a'.repeat(64);

describe.each(clickhouseTargets())('$name', (target) => {
const databases: string[] = [];

/** A fresh, migrated database on the target; dropped after the file. */
async function freshUrl(prefix: string): Promise<string> {
  const db = uniqueName(prefix);
  databases.push(db);
  const url = target.url(db);
  await migrateClickHouse(url);
  return url;
}

afterAll(async () => {
  for (const db of databases) await clickhouseQuery(target.base, `DROP DATABASE IF EXISTS ${db}`);
});

describeStoreContract('clickhouse', async () => openClickHouseStore(await freshUrl('lk_contract')), {
  openMissing: () => openClickHouseStore(target.url(uniqueName('lk_missing'))),
});

describe('clickhouse store', () => {
  it('reports the server version', async () => {
    const v = await clickhouseVersion(target.url('default'));
    expect(v.major).toBeGreaterThanOrEqual(target.minMajor);
    expect(v.text).toMatch(/^\d+\.\d+/);
  });

  describe('migrations', () => {
    it('creates the database when missing, and a second run is a no-op', async () => {
      const db = uniqueName('lk_migrate');
      databases.push(db);
      const url = target.url(db);
      const first = await migrateClickHouse(url);
      expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
      expect(first.applied.at(-1)).toBe(LATEST_VERSION);
      expect(first.alreadyApplied).toEqual([]);
      const tablesBefore = await clickhouseRows<{ name: string }>(target.base, `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`);
      const second = await migrateClickHouse(url);
      expect(second.applied).toEqual([]);
      expect(second.alreadyApplied).toEqual(first.applied);
      const tablesAfter = await clickhouseRows<{ name: string }>(target.base, `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`);
      expect(tablesAfter).toEqual(tablesBefore);
      expect(tablesAfter.map((t) => t.name)).toEqual([
        'alerts', 'audit_log', 'disclosures', 'meta', 'schema_migrations', 'site_daily', 'site_daily_mv', 'site_hourly', 'site_hourly_mv',
        'subscriber_daily', 'subscriber_daily_mv',
        'violations_by_time', 'violations_by_time_mv',
      ]);
      const recorded = await clickhouseRows<{ n: string }>(target.base, `SELECT count() AS n FROM ${db}.schema_migrations`);
      expect(Number(recorded[0]!.n)).toBe(first.applied.length);
    });

    it('refuses to open a database that was never migrated, without retry', async () => {
      const db = uniqueName('lk_unmigrated');
      const err = await openClickHouseStore(target.url(db)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LeakscopeError);
      expect(err).toMatchObject({ code: 'INPUT_UNREADABLE', retryable: false });
      expect((err as Error).message).toMatch(/leakscope migrate/);
    });
  });

  it('has the disclosures table of the shared column list, in order, Nullable where it may be null', async () => {
    const db = clickhouseDatabase(await freshUrl('lk_columns'));
    // DESCRIBE lists columns in table order on both releases (18.16's system.columns has no position).
    const columns = await clickhouseRows<{ name: string; type: string }>(target.base, `DESCRIBE TABLE ${db}.disclosures`);
    expect(columns.map((c) => c.name)).toEqual(DISCLOSURE_COLUMNS.map((c) => c.name));
    // subscriber_hash is in the sorting key, so '' stands for null there (rows.ts).
    expect(columns.map((c) => c.type.startsWith('Nullable('))).toEqual(DISCLOSURE_COLUMNS.map((c) => c.nullable && c.name !== 'subscriber_hash'));
  });

  it('reads the key check of a store written before the meta keys were shared (keyCheck), and writes key_check', async () => {
    const url = await freshUrl('lk_meta');
    const db = clickhouseDatabase(url);
    await clickhouseQuery(target.base, `INSERT INTO ${db}.meta (key, value_json, version) VALUES ('region', '"GB"', 1), ('keyCheck', '"old"', 1)`);
    const store = await openClickHouseStore(url);
    try {
      expect(await store.readMeta()).toEqual({ region: 'GB', keyCheck: 'old' });
      await store.writeMeta({ region: 'GB', keyCheck: 'new' });
      expect(await store.readMeta()).toEqual({ region: 'GB', keyCheck: 'new' });
      const keys = await clickhouseRows<{ key: string }>(target.base, `SELECT DISTINCT key FROM ${db}.meta ORDER BY key`);
      expect(keys.map((k) => k.key)).toEqual(['keyCheck', 'key_check', 'region']);
    } finally {
      await store.close();
    }
  });

  describe('a batch written twice', () => {
    let url: string;
    let store: DisclosureStore;
    beforeAll(async () => {
      url = await freshUrl('lk_replay');
      store = await openClickHouseStore(url);
    });
    afterAll(async () => { await store?.close(); });

    async function answers() {
      return {
        report: buildReport(WINDOW, await store.report(WINDOW)),
        wide: buildReport({ from: T0 - 48 * H, to: T0 + 48 * H }, await store.report({ from: T0 - 48 * H, to: T0 + 48 * H })),
        // Not on hour/day boundaries: partial buckets come from the raw-ish tables.
        ragged: buildReport({ from: T0 + 1_000, to: T0 + 4 * H + 1 }, await store.report({ from: T0 + 1_000, to: T0 + 4 * H + 1 })),
        whoSaw: buildWhoSaw('+4477009****23', { from: null, to: null }, await store.whoSaw(A, { from: null, to: null })),
        whoSawRagged: buildWhoSaw('+4477009****23', { from: T0 + 1, to: T0 + 5 * H }, await store.whoSaw(A, { from: T0 + 1, to: T0 + 5 * H })),
        affected: await store.affected(WINDOW),
      };
    }

    it('counts once in report, who-saw and affected, before and after OPTIMIZE … FINAL', async () => {
      await store.write(CONTRACT_DATA);
      const once = await answers();
      expect(once.wide.totals.violations).toBe(8);
      await store.write(CONTRACT_DATA);
      await store.write(CONTRACT_DATA.slice(2, 5));
      const raw = await clickhouseRows<{ n: string }>(target.base, `SELECT count() AS n FROM ${clickhouseDatabase(url)}.disclosures`);
      expect(Number(raw[0]!.n)).toBeGreaterThan(CONTRACT_DATA.length); // the duplicates really are there
      expect(await answers()).toEqual(once);
      const db = clickhouseDatabase(url);
      for (const table of ['disclosures', 'violations_by_time', 'site_hourly', 'site_daily', 'subscriber_daily']) {
        await clickhouseQuery(target.base, `OPTIMIZE TABLE ${db}.${table} FINAL`);
      }
      const merged = await clickhouseRows<{ n: string }>(target.base, `SELECT count() AS n FROM ${db}.disclosures`);
      expect(Number(merged[0]!.n)).toBe(CONTRACT_DATA.length);
      expect(await answers()).toEqual(once);
    });

    it('answers ragged windows exactly like the raw table does', async () => {
      const db = clickhouseDatabase(url);
      const from = T0 + 1_000;
      const to = T0 + 4 * H + 1;
      const expected = await clickhouseRows<{ v: string; s: string }>(target.base,
        `SELECT uniqExact(id) AS v, uniqExactIf(subscriber_hash, subscriber_hash != '') AS s FROM ${db}.disclosures
         WHERE verdict != 'authorized' AND ts_ms >= ${from} AND ts_ms < ${to}`);
      const report = await store.report({ from, to });
      expect(report.totals.violations).toBe(Number(expected[0]!.v));
      expect(report.totals.subscribers).toBe(Number(expected[0]!.s));
      expect(report.totals.violations).toBe(4); // ids 2, 3, 5, 6 (id 1 is at T0 + 1123 ms, after from)
    });

    it('answers report and who-saw from the rollups, never the raw table', async () => {
      const db = clickhouseDatabase(url);
      const before = { report: await store.report(WINDOW), whoSaw: await store.whoSaw(A, { from: null, to: null }) };
      await clickhouseQuery(target.base, `DETACH TABLE ${db}.disclosures`);
      try {
        expect(await store.report(WINDOW)).toEqual(before.report);
        expect(await store.whoSaw(A, { from: null, to: null })).toEqual(before.whoSaw);
        // Whole UTC days: no partial day to read from the raw table either.
        const day0 = Date.parse('2012-01-10T00:00:00.000Z');
        expect(await store.whoSaw(A, { from: day0 - 24 * H, to: day0 + 48 * H })).toEqual(before.whoSaw);
        expect(await store.whoSaw(A, { from: day0, to: day0 + 24 * H })).toEqual(before.whoSaw.filter((r) => r.host !== 'late.example.org'));
      } finally {
        await clickhouseQuery(target.base, `ATTACH TABLE ${db}.disclosures`);
      }
    });
  });

  describe('hostile text', () => {
    const HOSTILE = [
      "'); DROP TABLE disclosures; --",
      "it's a \\' trap \\\\ ''",
      'line\nbreak\r\ttab',
      'nul\u0000byte',
      '\u0001\u001f\u007f control',
      'ünïcödé 😀 日本語 \u200b zero-width',
      '\\x41 \\0 \\N literal escapes',
      '"double" `back` $dollar {brace}',
      'x'.repeat(200_000),
    ];
    let store: DisclosureStore;
    let db: string;
    beforeAll(async () => {
      const url = await freshUrl('lk_hostile');
      db = clickhouseDatabase(url);
      store = await openClickHouseStore(url);
    });
    afterAll(async () => { await store?.close(); });

    it('round-trips through insert and every query unchanged', async () => {
      const rows: StoredDisclosure[] = HOSTILE.map((s, i) => ({
        id: `hostile-${i}-${s.slice(0, 40)}`, requestKey: s, ts: T0 + i, host: s.slice(0, 1000), site: `site ${s.slice(0, 1000)}`,
        subscriberHash: `hash-${s.slice(0, 1000)}`, subscriberMasked: s.slice(0, 100), subscriberEnc: `enc ${s.slice(0, 1000)}`,
        channels: [`header:${s.slice(0, 1000)}`, 'url'], verdict: 'unauthorized_recipient', partnerId: null, registryVersion: s,
        gatewayId: s, bearer: null, method: 'GET', scheme: 'http', path: s, queryMasked: s, status: 200,
      }));
      await store.write(rows);
      const stored = await clickhouseRows<{ id: string; path: string; query_masked: string; channels: string[] }>(target.base,
        `SELECT id, path, query_masked, channels FROM ${db}.disclosures ORDER BY ts_ms`);
      expect(stored.map((r) => r.path)).toEqual(HOSTILE);
      expect(stored.map((r) => r.query_masked)).toEqual(HOSTILE);
      const report = await store.report(WINDOW);
      expect(report.totals.violations).toBe(HOSTILE.length);
      expect(new Set(report.sites.map((s) => s.site))).toEqual(new Set(rows.map((r) => r.site)));
      for (const row of rows) {
        // The site filter and the subscriber hash travel as literals.
        const one = await store.report(WINDOW, row.site);
        expect(one.sites).toHaveLength(1);
        expect(one.sites[0]!.hosts).toEqual([row.host]);
        expect([...one.sites[0]!.identifiers].sort()).toEqual([...row.channels].sort());
        const seen = await store.whoSaw(row.subscriberHash!, { from: null, to: null });
        expect(seen.map((r) => r.host)).toEqual([row.host]);
        const ragged = await store.whoSaw(row.subscriberHash!, { from: T0 - 7, to: T0 + 1000 });
        expect(ragged.map((r) => r.host)).toEqual([row.host]);
      }
      const affected = await store.affected({ from: T0 - 7, to: T0 + 10_000 });
      expect(affected.map((a) => a.subscriberEnc).sort()).toEqual(rows.map((r) => r.subscriberEnc).sort());
      const tables = await clickhouseRows(target.base, `SELECT name FROM system.tables WHERE database = '${db}' AND name = 'disclosures'`);
      expect(tables).toHaveLength(1);
    });

    it('refuses a lone surrogate before sending anything', async () => {
      const row = { ...CONTRACT_DATA[0]!, id: 'surrogate', path: 'a\ud800b' };
      await expect(store.write([row])).rejects.toMatchObject({ code: 'STORE_FAILED', retryable: false });
    });
  });

  describe('errors', () => {
    it('gives a STORE_FAILED that is not retryable when the server refuses the statement', async () => {
      const url = await freshUrl('lk_errors');
      const db = clickhouseDatabase(url);
      const store = await openClickHouseStore(url);
      await clickhouseQuery(target.base, `DROP TABLE ${db}.site_hourly_mv`);
      await clickhouseQuery(target.base, `DROP TABLE ${db}.site_hourly`);
      const err = await store.report(WINDOW).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_FAILED', retryable: false });
      expect((err as Error).message).toMatch(/code 60/);
    });
  });
});
});

describe('clickhouse store over HTTP', () => {
  describe('errors', () => {
    it('gives a retryable STORE_FAILED when nothing listens at the URL', async () => {
      const err = await openClickHouseStore('http://127.0.0.1:1/leakscope', { requestTimeoutMs: 5_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LeakscopeError);
      expect(err).toMatchObject({ code: 'STORE_FAILED', retryable: true });
      expect((err as Error).message).toMatch(/could not be reached/);
    });

    it('gives a retryable STORE_FAILED when the server does not answer in time', async () => {
      const { createServer } = await import('node:net');
      const sockets: import('node:net').Socket[] = [];
      const silent = createServer((s) => { sockets.push(s); });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as import('node:net').AddressInfo).port;
      try {
        const err = await migrateClickHouse(`http://127.0.0.1:${port}/leakscope`, { requestTimeoutMs: 300 }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'STORE_FAILED', retryable: true });
        expect((err as Error).message).toMatch(/no answer within 300 ms/);
      } finally {
        for (const s of sockets) s.destroy();
        silent.close();
      }
    });

  });
});
