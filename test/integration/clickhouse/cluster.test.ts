// The store on the real ClickHouse cluster of deploy/local/stack cluster-up (2 shards, shard 1
// with two replicas): `migrate --cluster` reaches every node, a store opened on any node is a
// cluster store with no flag, a subscriber's rows live on one shard, and a batch written again
// after a crash (the same batch, or re-split) leaves every answer on every node as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, buildWhoSaw } from '../../../services/store/answers.js';
import { LeakscopeError } from '../../../services/core/errors.js';
import type { DisclosureStore } from '../../../services/store/types.js';
import { migrateClickHouse, openClickHouseStore } from '../../../services/store/clickhouse/index.js';
import { describeStoreContract } from '../../contract/store-contract.js';
import { DATA_START, dataSet } from '../support/disclosures.js';
import { clickhouseQuery, requireClusters, uniqueName } from '../support/servers.js';

const D = 86_400_000;
const H = 3_600_000;

describe('the store on a ClickHouse cluster', () => {
  const db = uniqueName('lk_cluster');
  const { rows, subscribers } = dataSet(2400, 12);
  const windows = [
    { from: DATA_START, to: DATA_START + 4 * D },
    { from: DATA_START + 5 * H + 17, to: DATA_START + 2 * D + 3 * H + 5 },
  ];
  let nodes: string[] = [];
  let cluster = '';
  const stores: DisclosureStore[] = [];
  const url = (node: string) => new URL(`/${db}`, node).toString();
  const open = async (node: string) => {
    const store = await openClickHouseStore(url(node), { maxRowsPerInsert: 500 });
    stores.push(store);
    return store;
  };
  /** Every answer of the store, as the CLI would print it. */
  const answers = async (store: DisclosureStore) => ({
    reports: await Promise.all(windows.map(async (w) => buildReport(w, await store.report(w)))),
    // A subscriber's sites are a set: compared in order.
    affected: await Promise.all(windows.map(async (w) => (await store.affected(w)).map((a) => ({ ...a, sites: [...a.sites].sort() })))),
    whoSaw: await Promise.all(subscribers.slice(0, 8).map(async (h) => buildWhoSaw('x', { from: null, to: null }, await store.whoSaw(h, { from: null, to: null })))),
  });
  const shardRows = (node: string) => clickhouseQuery(node, `SELECT count() FROM ${db}.disclosures_local`).then((t) => Number(t.trim()));

  beforeAll(async () => {
    const servers = requireClusters();
    nodes = servers.nodes;
    cluster = servers.clickhouseCluster;
    expect(nodes).toHaveLength(3); // s1r1, s1r2 (shard 1), s2r1 (shard 2)
    await migrateClickHouse(url(nodes[0]!), {}, { cluster });
  }, 120_000);

  afterAll(async () => {
    for (const s of stores) await s.close();
    if (nodes.length > 0) await clickhouseQuery(nodes[0]!, `DROP DATABASE IF EXISTS ${db} ON CLUSTER ${cluster}`);
  }, 120_000);

  it('is created on every node: replicated local tables, and Distributed tables under the usual names', async () => {
    for (const node of nodes) {
      const engines = Object.fromEntries((await clickhouseQuery(node, `SELECT name, engine FROM system.tables WHERE database = '${db}' FORMAT TSV`))
        .trim().split('\n').map((l) => l.split('\t')));
      expect(engines).toMatchObject({
        disclosures: 'Distributed', disclosures_local: 'ReplicatedReplacingMergeTree',
        site_daily: 'Distributed', site_daily_local: 'ReplicatedAggregatingMergeTree',
        subscriber_daily: 'Distributed', subscriber_daily_local: 'ReplicatedAggregatingMergeTree',
        meta: 'ReplicatedReplacingMergeTree', schema_migrations: 'ReplicatedMergeTree', audit_log: 'ReplicatedMergeTree', alerts: 'ReplicatedReplacingMergeTree',
        site_hourly_mv: 'MaterializedView',
      });
    }
  });

  it('is migrated again as a no-op from another node, and refused without --cluster', async () => {
    const again = await migrateClickHouse(url(nodes[2]!), {}, { cluster });
    expect(again.applied).toEqual([]);
    const refused = await migrateClickHouse(url(nodes[1]!)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LeakscopeError);
    expect((refused as LeakscopeError).code).toBe('CONFIG_INVALID');
    expect((refused as Error).message).toContain(`--cluster ${cluster}`);
    const unknown = await migrateClickHouse(url(nodes[0]!), {}, { cluster: 'no_such_cluster' }).catch((e: unknown) => e);
    expect((unknown as LeakscopeError).code).toBe('CONFIG_INVALID');
  });

  it('keeps each subscriber on one shard, both shards holding data, and answers the same on every node', async () => {
    // Written through the node of shard 2; read through each of the three nodes.
    const writer = await open(nodes[2]!);
    for (let i = 0; i < rows.length; i += 600) await writer.write(rows.slice(i, i + 600));
    const onShard = async (node: string) => new Set((await clickhouseQuery(node, `SELECT DISTINCT subscriber_hash FROM ${db}.disclosures_local WHERE subscriber_hash != '' FORMAT TSV`)).trim().split('\n'));
    const [shard1, shard2] = [await onShard(nodes[0]!), await onShard(nodes[2]!)];
    expect(shard1.size).toBeGreaterThan(0);
    expect(shard2.size).toBeGreaterThan(0);
    expect([...shard1].filter((h) => shard2.has(h))).toEqual([]);
    expect(new Set([...shard1, ...shard2])).toEqual(new Set(subscribers));
    // The insert returned only when every shard had its rows (insert_distributed_sync).
    expect((await shardRows(nodes[0]!)) + (await shardRows(nodes[2]!))).toBe(rows.length);
    const first = await answers(await open(nodes[0]!));
    expect(first.reports[0]!.totals.violations).toBe(rows.filter((r) => r.verdict !== 'authorized').length);
    expect(await answers(await open(nodes[1]!))).toEqual(first);
    expect(await answers(writer)).toEqual(first);
  });

  it('counts a batch written twice once on every shard: the same batch, and the same rows split differently', async () => {
    const store = await open(nodes[1]!);
    const before = await answers(store);
    const rowsBefore = [await shardRows(nodes[0]!), await shardRows(nodes[2]!)];
    // The same batch again: each shard's part is the same block, dropped by the replicated table's deduplication.
    await store.write(rows.slice(0, 600));
    expect([await shardRows(nodes[0]!), await shardRows(nodes[2]!)]).toEqual(rowsBefore);
    // Re-split after a rebalance: new blocks, stored again, and counted once by the exact-id states.
    for (let i = 100; i < 1900; i += 450) await store.write(rows.slice(i, i + 450));
    expect((await shardRows(nodes[0]!)) + (await shardRows(nodes[2]!))).toBeGreaterThan(rowsBefore[0]! + rowsBefore[1]!);
    expect(await answers(store)).toEqual(before);
    expect(await answers(await open(nodes[2]!))).toEqual(before);
  });
});

// The contract every store meets, on a fresh cluster database per store.
const contractDatabases: string[] = [];
describeStoreContract('clickhouse cluster', async () => {
  const { clickhouseUrl, clickhouseCluster } = requireClusters();
  const db = uniqueName('lk_cluster_contract');
  contractDatabases.push(db);
  const url = new URL(`/${db}`, clickhouseUrl).toString();
  await migrateClickHouse(url, {}, { cluster: clickhouseCluster });
  return openClickHouseStore(url);
}, {
  openMissing: () => openClickHouseStore(new URL(`/${uniqueName('lk_missing')}`, requireClusters().clickhouseUrl).toString()),
});

afterAll(async () => {
  const { clickhouseUrl, clickhouseCluster } = requireClusters();
  for (const db of contractDatabases) await clickhouseQuery(clickhouseUrl, `DROP DATABASE IF EXISTS ${db} ON CLUSTER ${clickhouseCluster}`);
}, 180_000);
