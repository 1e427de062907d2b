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
import { clickhouseQuery, clickhouseTargets, clusterTarget, uniqueName, type ClickHouseTarget, type ClusterTarget } from '../support/servers.js';
import { DATA_START, dataSet, rng } from '../support/disclosures.js';

const H = 3_600_000;
const D = 24 * H;
const START = DATA_START;

const clusterOf = (t: ClickHouseTarget): string | null => ('cluster' in t ? (t as ClusterTarget).cluster : null);

// The cluster too: sharded by subscriber, each shard's rollups merged by the Distributed tables.
describe.each([...clickhouseTargets(), clusterTarget()])('$name and DuckDB answers', (target) => {
  const { rows, subscribers } = dataSet(3000, 7);
  const db = uniqueName('lk_equiv');
  const dir = mkdtempSync(join(tmpdir(), 'lk-equiv-'));
  let ch: DisclosureStore;
  let duck: DisclosureStore;

  beforeAll(async () => {
    const url = target.url(db);
    const cluster = clusterOf(target);
    await migrateClickHouse(url, {}, cluster === null ? {} : { cluster });
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
    const cluster = clusterOf(target);
    await clickhouseQuery(target.base, `DROP DATABASE IF EXISTS ${db}${cluster === null ? '' : ` ON CLUSTER ${cluster}`}`);
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
