// One contract every disclosure store passes (DuckDB and ClickHouse): call
// `describeStoreContract` from a store's own test file with a factory for a fresh store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, buildWhoSaw } from '../../services/store/answers.js';
import type { DisclosureStore, StoredAlert, StoredDisclosure } from '../../services/store/types.js';
import { LeakscopeError } from '../../services/core/errors.js';

const H = 3_600_000;
const T0 = Date.parse('2012-01-10T09:00:00.000Z');

function disclosure(n: number, over: Partial<StoredDisclosure>): StoredDisclosure {
  return {
    id: `id-${n}`, requestKey: `gw:${n}`, ts: T0, host: 'www.example.com', site: 'example.com',
    subscriberHash: 'a'.repeat(64), subscriberMasked: '+4477009****23', subscriberEnc: 'v1:AAAA',
    channels: ['header:x-msisdn'], verdict: 'unauthorized_recipient', partnerId: null, registryVersion: 'r1',
    gatewayId: 'gw-lon-01', bearer: '3g', method: 'GET', scheme: 'http', path: '/', queryMasked: '', status: 200,
    ...over,
  };
}

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

/** A small data set whose answers are worked out by hand below. */
export const CONTRACT_DATA: StoredDisclosure[] = [
  disclosure(1, { ts: T0 + 1_123, subscriberHash: A }),
  disclosure(2, { ts: T0 + 2 * H, subscriberHash: B, subscriberMasked: '+4477009****45', subscriberEnc: 'v1:BBBB', host: 'm.example.com', channels: ['url', 'header:x-msisdn'] }),
  disclosure(3, { ts: T0 + 3 * H, subscriberHash: A, host: 'www.news.co.uk', site: 'news.co.uk', channels: ['referer'] }),
  disclosure(4, { ts: T0 + 3 * H + 5, subscriberHash: A, host: 'm.ageverify.example', site: 'ageverify.example', verdict: 'authorized', partnerId: 'ageverify', channels: ['header:x-up-calling-line-id'] }),
  disclosure(5, { ts: T0 + 4 * H, subscriberHash: C, subscriberMasked: '+4477009****67', subscriberEnc: 'v1:CCCC', host: 'pay.billing.example', site: 'billing.example', verdict: 'partner_inactive', partnerId: 'billing' }),
  disclosure(6, { ts: T0 + 4 * H + 1, subscriberHash: null, subscriberMasked: null, subscriberEnc: null, host: 'ads.tokenads.example', site: 'tokenads.example', verdict: 'identifier_not_allowed', partnerId: 'tokenonly', channels: ['header:x-acr', 'header:x-msisdn'] }),
  disclosure(7, { ts: T0 + 5 * H, subscriberHash: A, host: 'www.example.com' }),
  // Outside the report window used below: one hour before and exactly at its end.
  disclosure(8, { ts: T0 - H, subscriberHash: B, host: 'early.example.org', site: 'example.org' }),
  disclosure(9, { ts: T0 + 24 * H, subscriberHash: A, host: 'late.example.org', site: 'example.org' }),
];

const WINDOW = { from: T0, to: T0 + 24 * H };

export interface StoreContractOptions {
  /** Opens a store that does not exist (a missing file, a database never migrated) the way the query commands do. */
  openMissing: () => Promise<DisclosureStore>;
}

export function describeStoreContract(name: string, open: () => Promise<DisclosureStore>, options: StoreContractOptions): void {
  describe(`${name} store contract`, () => {
    it('refuses a store that does not exist as refused input, naming what to do', async () => {
      const err = await options.openMissing().then(async (s) => { await s.close(); return null; }, (e: unknown) => e);
      expect(err).toBeInstanceOf(LeakscopeError);
      expect(err).toMatchObject({ code: 'INPUT_UNREADABLE', retryable: false });
      expect((err as Error).message).toMatch(/leakscope (scan|migrate)/);
    });

    it('refuses every call once closed, with a STORE_FAILED that is not retryable; closing again is harmless', async () => {
      const closed = await open();
      await closed.close();
      await closed.close();
      const W = { from: T0, to: T0 + H };
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['write', () => closed.write(CONTRACT_DATA.slice(0, 1))],
        ['report', () => closed.report(W)],
        ['whoSaw', () => closed.whoSaw(A, W)],
        ['affected', () => closed.affected(W)],
        ['readMeta', () => closed.readMeta()],
        ['writeMeta', () => closed.writeMeta({ region: 'GB', keyCheck: null })],
        ['alertedSites', () => closed.alertedSites()],
      ];
      for (const [what, call] of calls) {
        const err = await call().then(() => null, (e: unknown) => e);
        expect(err, what).toMatchObject({ code: 'STORE_FAILED', retryable: false });
        expect((err as Error).message, what).toMatch(/closed/);
      }
    });

    let store: DisclosureStore;
    beforeAll(async () => {
      store = await open();
      await store.write(CONTRACT_DATA.slice(0, 5));
      await store.write(CONTRACT_DATA.slice(3)); // overlaps: ids 4 and 5 are written twice
    });
    afterAll(async () => { await store?.close(); });

    it('reports violations of a window with sites ordered by subscribers, violations, then name', async () => {
      const report = buildReport(WINDOW, await store.report(WINDOW));
      expect(report.totals).toEqual({ violations: 6, subscribers: 3, sites: 4 });
      expect(report.sites.map((s) => s.site)).toEqual(['example.com', 'billing.example', 'news.co.uk', 'tokenads.example']);
      expect(report.sites[0]).toEqual({
        site: 'example.com', hosts: ['m.example.com', 'www.example.com'], violations: 3, subscribers: 2,
        first_seen: '2012-01-10T09:00:01.123Z', last_seen: '2012-01-10T14:00:00.000Z',
        identifiers: ['header:x-msisdn', 'url'], verdicts: { unauthorized_recipient: 3 },
      });
      expect(report.sites[3]).toMatchObject({ site: 'tokenads.example', subscribers: 0, violations: 1, verdicts: { identifier_not_allowed: 1 } });
      expect(report.timeline).toEqual([
        { bucket: '2012-01-10T09:00:00.000Z', violations: 1 },
        { bucket: '2012-01-10T11:00:00.000Z', violations: 1 },
        { bucket: '2012-01-10T12:00:00.000Z', violations: 1 },
        { bucket: '2012-01-10T13:00:00.000Z', violations: 2 },
        { bucket: '2012-01-10T14:00:00.000Z', violations: 1 },
      ]);
    });

    it('stores a disclosure written twice once', async () => {
      const all = buildReport({ from: T0 - 48 * H, to: T0 + 48 * H }, await store.report({ from: T0 - 48 * H, to: T0 + 48 * H }));
      expect(all.totals.violations).toBe(8);
    });

    it('narrows a report to one site', async () => {
      const report = buildReport(WINDOW, await store.report(WINDOW, 'news.co.uk'));
      expect(report.totals).toEqual({ violations: 1, subscribers: 1, sites: 1 });
      expect(report.sites.map((s) => s.site)).toEqual(['news.co.uk']);
    });

    it('answers who saw a number, authorised recipients included, one row per host, verdict and partner', async () => {
      const answer = buildWhoSaw('+4477009****23', { from: null, to: null }, await store.whoSaw(A, { from: null, to: null }));
      expect(answer.recipients.map((r) => [r.host, r.verdict, r.partner, r.requests])).toEqual([
        ['www.example.com', 'unauthorized_recipient', null, 2],
        ['www.news.co.uk', 'unauthorized_recipient', null, 1],
        ['m.ageverify.example', 'authorized', 'ageverify', 1],
        ['late.example.org', 'unauthorized_recipient', null, 1],
      ]);
      expect(answer.recipients[0]).toMatchObject({ first_seen: '2012-01-10T09:00:01.123Z', last_seen: '2012-01-10T14:00:00.000Z', identifiers: ['header:x-msisdn'] });
    });

    it('limits who-saw to a window [from, to)', async () => {
      const rows = await store.whoSaw(A, { from: T0 + 3 * H, to: T0 + 24 * H });
      expect(rows.map((r) => r.host).sort()).toEqual(['m.ageverify.example', 'www.example.com', 'www.news.co.uk']);
      expect(await store.whoSaw('f'.repeat(64), { from: null, to: null })).toEqual([]);
    });

    it('lists affected subscribers of a window with their sites and exposure times', async () => {
      const rows = [...await store.affected(WINDOW)].sort((a, b) => a.subscriberHash.localeCompare(b.subscriberHash));
      expect(rows.map((r) => [r.subscriberEnc, [...r.sites].sort(), r.violations])).toEqual([
        ['v1:AAAA', ['example.com', 'news.co.uk'], 3],
        ['v1:BBBB', ['example.com'], 1],
        ['v1:CCCC', ['billing.example'], 1],
      ]);
      expect(rows[0]!.firstSeen).toBe(T0 + 1_123);
      expect(rows[0]!.lastSeen).toBe(T0 + 5 * H);
    });

    it('keeps its meta data, the latest write winning', async () => {
      expect(await store.readMeta()).toEqual({ region: null, keyCheck: null });
      await store.writeMeta({ region: 'GB', keyCheck: 'k1' });
      expect(await store.readMeta()).toEqual({ region: 'GB', keyCheck: 'k1' });
      await store.writeMeta({ region: 'FI', keyCheck: 'k2' });
      expect(await store.readMeta()).toEqual({ region: 'FI', keyCheck: 'k2' });
    });

    it('keeps the encryption-key check beside the hash key\'s, untouched by a write that does not give it', async () => {
      await store.writeMeta({ region: 'GB', keyCheck: 'k1', encKeyCheck: 'e1' });
      expect(await store.readMeta()).toEqual({ region: 'GB', keyCheck: 'k1', encKeyCheck: 'e1' });
      await store.writeMeta({ region: 'GB', keyCheck: 'k1' });
      expect((await store.readMeta()).encKeyCheck).toBe('e1');
    });

    it('names subscribers by their masked number, for the ones an export cannot decrypt', async () => {
      const masked = await store.maskedSubscribers!([B, C, 'f'.repeat(64)]);
      expect([...masked].sort()).toEqual([[B, '+4477009****45'], [C, '+4477009****67']]);
    });

    it('lists every site with a violation stored, in any window, and no site with authorised disclosures only', async () => {
      // example.org's violations lie outside the report window; ageverify.example has only an authorised one.
      expect(await store.alertedSites()).toEqual(['billing.example', 'example.com', 'example.org', 'news.co.uk', 'tokenads.example']);
    });

    it('keeps alerts once per id and reads them newest first from `since`', async () => {
      const alert = (id: string, detectedAt: number, kind: StoredAlert['kind'] = 'first_disclosure'): StoredAlert => ({
        id, kind, site: kind === 'spread' ? null : `${id}.example`, host: null, verdict: kind === 'spread' ? null : 'unauthorized_recipient',
        partner_id: null, channels: ['header:x-msisdn'], subscriber_masked: '+4477009****23', sites: kind === 'spread' ? ['a.example'] : [],
        first_seen: T0, count: 1, detected_at: detectedAt, registry_version: 'v1', status: 'firing', resolves: null, ends_at: null,
      });
      expect(await store.recentAlerts()).toEqual([]);
      await store.writeAlerts([alert('a1', 1000), alert('a2', 3000, 'spread'), alert('a3', 2000)]);
      await store.writeAlerts([{ ...alert('a1', 9000), count: 99 }]); // a repeat: the first one is kept
      expect((await store.recentAlerts()).map((a) => [a.id, a.detected_at, a.count])).toEqual([['a2', 3000, 1], ['a3', 2000, 1], ['a1', 1000, 1]]);
      expect((await store.recentAlerts({ since: 2000 })).map((a) => a.id)).toEqual(['a2', 'a3']);
      expect((await store.recentAlerts({ limit: 1 })).map((a) => a.id)).toEqual(['a2']);
      expect((await store.recentAlerts({ since: 3000 }))[0]).toEqual(alert('a2', 3000, 'spread'));
    });
  });
}
