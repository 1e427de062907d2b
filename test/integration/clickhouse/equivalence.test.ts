// ClickHouse and the embedded DuckDB store give the same answers, byte for byte, on a
// seeded random data set — windows on and off bucket boundaries, with ClickHouse fed
// overlapping replayed batches (DuckDB once) to show replays do not change its answers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, buildWhoSaw } from '../../../services/store/answers.js';
import type { DisclosureStore, StoredDisclosure } from '../../../services/store/types.js';
import { VERDICTS } from '../../../services/core/types.js';
import { migrateClickHouse, openClickHouseStore } from '../../../services/store/clickhouse/index.js';
import { openDuckDbStore } from '../../../services/store/duckdb/index.js';
import { clickhouseQuery, clickhouseTargets, uniqueName } from '../support/servers.js';

const H = 3_600_000;
const D = 24 * H;
const START = Date.parse('2012-01-10T00:00:00.000Z');

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dataSet(n: number, seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const sites = ['example.com', 'news.co.uk', 'ageverify.example', 'billing.example', 'tokenads.example', 'xn--bcher-kva.example', '10.0.0.7'];
  const hosts = sites.flatMap((s) => (s === '10.0.0.7' ? [s] : [`www.${s}`, `m.${s}`, s]));
  const subscribers = Array.from({ length: 25 }, (_, i) => (i < 3 ? null : i.toString(16).padStart(64, '0')));
  const channels = ['url', 'referer', 'header:x-msisdn', 'header:x-up-calling-line-id', 'header:cookie'];
  const rows: StoredDisclosure[] = [];
  for (let i = 0; i < n; i++) {
    const host = pick(hosts);
    const site = host === '10.0.0.7' ? host : host.replace(/^(www|m)\./, '');
    const hash = pick(subscribers);
    const verdict = pick(VERDICTS);
    const chosen = channels.filter(() => r() < 0.35);
    rows.push({
      id: `d-${seed}-${i}`, requestKey: `gw:${i}`, ts: START + Math.floor(r() * 3.5 * D), host, site,
      subscriberHash: hash, subscriberMasked: hash ? '+4477009****00' : null,
      subscriberEnc: hash && r() < 0.9 ? `v1:${hash.slice(-4)}:${Math.floor(r() * 3)}` : null,
      channels: (chosen.length ? chosen : ['url']).sort(), verdict,
      partnerId: verdict === 'unauthorized_recipient' ? null : pick(['ageverify', 'billing', 'tokenonly']),
      registryVersion: 'r1', gatewayId: 'gw-1', bearer: '3g', method: 'GET', scheme: 'http', path: '/', queryMasked: '', status: 200,
    });
  }
  return { rows, subscribers: subscribers.filter((s): s is string => s !== null) };
}

describe.each(clickhouseTargets())('$name and DuckDB answers', (target) => {
  const { rows, subscribers } = dataSet(3000, 7);
  const db = uniqueName('lk_equiv');
  const dir = mkdtempSync(join(tmpdir(), 'lk-equiv-'));
  let ch: DisclosureStore;
  let duck: DisclosureStore;

  beforeAll(async () => {
    const url = target.url(db);
    await migrateClickHouse(url);
    ch = await openClickHouseStore(url, { maxRowsPerInsert: 700 });
    duck = await openDuckDbStore(join(dir, 'equiv.duckdb'));
    await duck.write(rows);
    // Overlapping batches, as a detector that crashed between insert and commit would replay them.
    for (let i = 0; i < rows.length; i += 500) await ch.write(rows.slice(i, i + 750));
    await ch.write(rows.slice(1000, 1600));
  });

  afterAll(async () => {
    await ch?.close();
    await duck?.close();
    rmSync(dir, { recursive: true, force: true });
    await clickhouseQuery(target.base, `DROP DATABASE IF EXISTS ${db}`);
  });

  const r = rng(99);
  const windows: Array<{ from: number; to: number }> = [
    { from: START, to: START + 4 * D },
    { from: START + D, to: START + 2 * D },
    { from: START + 5 * H, to: START + 29 * H },
    { from: START + 1, to: START + 4 * D - 1 },
    { from: START + 7 * H + 123, to: START + 7 * H + 999_999 },
    ...Array.from({ length: 10 }, () => {
      const a = START + Math.floor(r() * 4 * D);
      const b = START + Math.floor(r() * 4 * D);
      return { from: Math.min(a, b), to: Math.max(a, b) + 1 };
    }),
  ];

  it.each(windows.map((w) => [new Date(w.from).toISOString(), new Date(w.to).toISOString(), w]))(
    'report %s – %s is the same',
    async (_, __, w) => {
      const window = w as { from: number; to: number };
      const fromCh = buildReport(window, await ch.report(window));
      expect(fromCh).toEqual(buildReport(window, await duck.report(window)));
      if (fromCh.sites[0]) {
        const site = fromCh.sites[0].site;
        expect(buildReport(window, await ch.report(window, site))).toEqual(buildReport(window, await duck.report(window, site)));
      }
      const norm = (xs: Awaited<ReturnType<DisclosureStore['affected']>>) => xs.map((x) => ({ ...x, sites: [...x.sites].sort() }))
        .sort((a, b) => (a.subscriberHash < b.subscriberHash ? -1 : 1));
      expect(norm(await ch.affected(window))).toEqual(norm(await duck.affected(window)));
    },
  );

  it('who-saw is the same for every subscriber and several windows', async () => {
    const whoWindows = [{ from: null, to: null }, { from: START + D, to: null }, { from: null, to: START + 30 * H + 5 }, ...windows.slice(2, 8)];
    for (const hash of subscribers) {
      for (const w of whoWindows) {
        const a = buildWhoSaw('x', w, await ch.whoSaw(hash, w));
        const b = buildWhoSaw('x', w, await duck.whoSaw(hash, w));
        expect(a, `${hash} ${JSON.stringify(w)}`).toEqual(b);
      }
    }
  });
});
