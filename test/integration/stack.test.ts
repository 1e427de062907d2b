// Smoke tests of the real servers deploy/local/stack starts: the project's kafkajs against
// the pinned Kafka broker (produce, consumer group, offset commit, admin), ClickHouse's HTTP
// interface (version, DDL, insert, select), and `cluster-up`: the three-broker KRaft cluster
// (RF=3 topic) and the ClickHouse cluster (ZooKeeper, two shards, a replicated shard).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import {
  clickhouseDatabase,
  clickhouseQuery,
  clickhouseRows,
  createTopic,
  kafkaClient,
  requireClickHouse,
  requireKafka,
  runStack,
  uniqueName,
  withAdmin,
} from './support/servers.js';

/** Consumes with a consumer group until `count` messages arrived, committing each batch by hand. */
async function consumeN(
  brokers: string[],
  groupId: string,
  topic: string,
  count: number,
): Promise<{ key: string; value: string; partition: number }[]> {
  const consumer: Consumer = kafkaClient(brokers, 'stack-test-consumer').consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 200,
  });
  const got: { key: string; value: string; partition: number }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length}/${count} messages in 60 s`)), 60_000);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ topic: t, partition, message }: EachMessagePayload) => {
            got.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', partition });
            // Commit the next offset to read, as the detector does after its batch is durable.
            await consumer.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            if (got.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('support/servers', () => {
  it('refuses to run without the stack, and says how to start it', () => {
    const saved = { k: process.env.KAFKA_BROKERS, c: process.env.CLICKHOUSE_URL };
    try {
      delete process.env.KAFKA_BROKERS;
      delete process.env.CLICKHOUSE_URL;
      expect(() => requireKafka()).toThrow(/KAFKA_BROKERS is not set.*deploy\/local\/stack up.*npm test/);
      expect(() => requireClickHouse()).toThrow(/CLICKHOUSE_URL is not set.*deploy\/local\/stack up/);
    } finally {
      if (saved.k !== undefined) process.env.KAFKA_BROKERS = saved.k;
      if (saved.c !== undefined) process.env.CLICKHOUSE_URL = saved.c;
    }
  });

  it('makes names that are valid topics and ClickHouse identifiers', () => {
    const a = uniqueName('stack-test.Topic');
    expect(a).toMatch(/^[a-z_][a-z0-9_]*$/);
    expect(uniqueName('x')).not.toBe(uniqueName('x'));
  });
});

describe('Kafka (single broker) with kafkajs', () => {
  const brokers = requireKafka();

  it('answers metadata: one broker with a controller', async () => {
    const cluster = await withAdmin(brokers, (admin) => admin.describeCluster());
    expect(cluster.brokers).toHaveLength(1);
    expect(cluster.controller).not.toBeNull();
  });

  it('creates a topic with 4 partitions and does not auto-create others', async () => {
    const topic = uniqueName('stack_admin');
    await createTopic(brokers, topic, 4);
    const meta = await withAdmin(brokers, (admin) => admin.fetchTopicMetadata({ topics: [topic] }));
    expect(meta.topics[0]?.partitions).toHaveLength(4);
    await expect(createTopic(brokers, topic, 4)).rejects.toThrow(/already exists/);

    // auto.create.topics.enable=false: producing to a missing topic fails instead of creating it.
    const producer = kafkaClient(brokers, 'stack-test-noauto', { retry: { retries: 1 } }).producer({
      allowAutoTopicCreation: true,
    });
    await producer.connect();
    try {
      await expect(
        producer.send({ topic: uniqueName('stack_missing'), messages: [{ value: 'x' }], timeout: 3000 }),
      ).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
    const topics = await withAdmin(brokers, (admin) => admin.listTopics());
    expect(topics).toContain(topic);
    expect(topics.filter((t) => t.startsWith('stack_missing'))).toEqual([]);
  });

  it('produces, consumes with a consumer group, commits, and resumes from the commit', async () => {
    const topic = uniqueName('stack_roundtrip');
    const groupId = uniqueName('stack_group');
    await createTopic(brokers, topic, 4);

    const producer = kafkaClient(brokers, 'stack-test-producer').producer({ idempotent: true });
    await producer.connect();
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `k${(from + i) % 7}`, value: `v${from + i}` }));
    try {
      const acks = await producer.send({ topic, acks: -1, messages: batch(0, 20) });
      expect(acks.every((a) => a.errorCode === 0)).toBe(true);
    } finally {
      await producer.disconnect();
    }

    const first = await consumeN(brokers, groupId, topic, 20);
    expect(first.map((m) => m.value).sort()).toEqual(batch(0, 20).map((m) => m.value).sort());
    // Same key, same partition.
    const partitionOf = new Map<string, number>();
    for (const m of first) {
      expect(partitionOf.get(m.key) ?? m.partition).toBe(m.partition);
      partitionOf.set(m.key, m.partition);
    }

    // The committed offsets are on the broker...
    const committed = await withAdmin(brokers, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    const total = committed[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    expect(total).toBe(20);

    // ...and a new member of the group starts from them: only the 5 new messages arrive.
    const producer2 = kafkaClient(brokers, 'stack-test-producer').producer();
    await producer2.connect();
    try {
      await producer2.send({ topic, messages: batch(20, 5) });
    } finally {
      await producer2.disconnect();
    }
    const second = await consumeN(brokers, groupId, topic, 5);
    expect(second.map((m) => m.value).sort()).toEqual(batch(20, 5).map((m) => m.value).sort());

    await withAdmin(brokers, (admin) => admin.deleteTopics({ topics: [topic] }));
  });
});

describe('ClickHouse over HTTP', () => {
  const url = requireClickHouse();

  it('answers SELECT version()', async () => {
    const version = (await clickhouseQuery(url, 'SELECT version()')).trim();
    expect(version).toMatch(/^\d+\.\d+/);
    expect(clickhouseDatabase(url)).toBe('leakscope');
  });

  it('round-trips CREATE TABLE / INSERT / SELECT in a fresh database', async () => {
    const db = uniqueName('stack_test');
    await clickhouseQuery(url, `CREATE DATABASE ${db}`);
    try {
      await clickhouseQuery(
        url,
        `CREATE TABLE ${db}.t (ts DateTime, host String, n UInt32) ENGINE = MergeTree ORDER BY (host, ts)`,
      );
      await clickhouseQuery(
        url,
        `INSERT INTO ${db}.t VALUES ('2012-01-10 09:31:02', 'www.example.com', 3), ('2012-01-25 13:59:58', 'o2.co.uk', 4)`,
      );
      await clickhouseQuery(url, 'INSERT INTO t FORMAT JSONEachRow\n{"ts":"2012-01-11 00:00:00","host":"www.example.com","n":5}', {
        database: db,
      });
      const rows = await clickhouseRows<{ host: string; total: string | number; first: string }>(
        url,
        'SELECT host, sum(n) AS total, toString(min(ts)) AS first FROM t GROUP BY host ORDER BY host',
        { database: db },
      );
      expect(rows.map((r) => [r.host, Number(r.total), r.first])).toEqual([
        ['o2.co.uk', 4, '2012-01-25 13:59:58'],
        ['www.example.com', 8, '2012-01-10 09:31:02'],
      ]);
      await expect(clickhouseQuery(url, 'SELECT * FROM no_such_table_here', { database: db })).rejects.toThrow(
        /ClickHouse 404|doesn't exist|UNKNOWN_TABLE|Code: 60/,
      );
    } finally {
      await clickhouseQuery(url, `DROP DATABASE IF EXISTS ${db}`);
    }
  });
});

describe('the clusters of deploy/local/stack cluster-up', () => {
  let brokers: string[] = [];
  let chUrl = '';
  let chCluster = '';
  let startedHere = false;

  beforeAll(async () => {
    requireKafka(); // the stack is up; the clusters are started here when they are not given
    const given = process.env.KAFKA_CLUSTER_BROKERS?.trim();
    const givenCh = process.env.CLICKHOUSE_CLUSTER_URL?.trim();
    if (given && givenCh) {
      brokers = given.split(',');
      chUrl = givenCh;
      chCluster = process.env.CLICKHOUSE_CLUSTER?.trim() ?? '';
      return;
    }
    const env = await runStack(['cluster-up']);
    brokers = (env.KAFKA_CLUSTER_BROKERS ?? '').split(',').filter(Boolean);
    chUrl = env.CLICKHOUSE_CLUSTER_URL ?? '';
    chCluster = env.CLICKHOUSE_CLUSTER ?? '';
    startedHere = true;
  }, 300_000);

  afterAll(async () => {
    if (startedHere) await runStack(['cluster-down']);
  }, 120_000);

  it('has three brokers and keeps an RF=3 topic fully replicated', async () => {
    expect(brokers).toHaveLength(3);
    const cluster = await withAdmin(brokers, (admin) => admin.describeCluster());
    expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);

    const topic = uniqueName('stack_rf3');
    await createTopic(brokers, topic, 6, { replicationFactor: 3, config: { 'min.insync.replicas': '2' } });
    const meta = await withAdmin(brokers, (admin) => admin.fetchTopicMetadata({ topics: [topic] }));
    const partitions = meta.topics[0]!.partitions;
    expect(partitions).toHaveLength(6);
    for (const p of partitions) {
      expect(p.replicas).toHaveLength(3);
      expect(p.isr).toHaveLength(3);
    }
    // Leaders are spread over the brokers.
    expect(new Set(partitions.map((p) => p.leader)).size).toBeGreaterThan(1);

    const producer = kafkaClient(brokers, 'stack-test-cluster').producer();
    await producer.connect();
    try {
      const acks = await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
      });
      expect(acks.every((a) => a.errorCode === 0)).toBe(true);
    } finally {
      await producer.disconnect();
    }
    const got = await consumeN(brokers, uniqueName('stack_rf3_group'), topic, 12);
    expect(got).toHaveLength(12);
  });

  it('has a ClickHouse cluster of two shards whose replicas copy each other through ZooKeeper', async () => {
    expect(chCluster).toMatch(/^[a-z_][a-z0-9_]*$/);
    const nodes = await clickhouseRows<{ shard_num: number; replica_num: number; port: number }>(
      chUrl,
      `SELECT shard_num, replica_num, port FROM system.clusters WHERE cluster = '${chCluster}' ORDER BY shard_num, replica_num`,
    );
    expect(nodes.map((n) => [Number(n.shard_num), Number(n.replica_num)])).toEqual([[1, 1], [1, 2], [2, 1]]);

    const db = uniqueName('stack_cluster');
    await clickhouseQuery(chUrl, `CREATE DATABASE ${db} ON CLUSTER ${chCluster}`);
    try {
      await clickhouseQuery(
        chUrl,
        `CREATE TABLE ${db}.local ON CLUSTER ${chCluster} (id String, d Date) ` +
          `ENGINE = ReplicatedMergeTree('/clickhouse/tables/{cluster}/${db}/local/{shard}', '{replica}') ORDER BY id`,
      );
      await clickhouseQuery(
        chUrl,
        `CREATE TABLE ${db}.all ON CLUSTER ${chCluster} AS ${db}.local ENGINE = Distributed(${chCluster}, ${db}, local, cityHash64(id))`,
      );
      const ids = Array.from({ length: 40 }, (_, i) => `id${i}`);
      await clickhouseQuery(chUrl, `INSERT INTO ${db}.all VALUES ${ids.map((id) => `('${id}', '2012-01-10')`).join(',')}`);
      // Distributed inserts reach the shards in the background and replicas fetch parts from
      // each other: wait (bounded) until every node has what it should.
      const countOn = async (port: number) => {
        const [row] = await clickhouseRows<{ n: number }>(chUrl, `SELECT count() AS n FROM remote('127.0.0.1:${port}', ${db}, local)`);
        return Number(row!.n);
      };
      let perNode: number[] = [];
      for (let attempt = 0; attempt < 100; attempt++) {
        perNode = await Promise.all(nodes.map((n) => countOn(Number(n.port))));
        if (perNode[0] === perNode[1] && perNode[0]! + perNode[2]! === ids.length) break;
        await new Promise((r) => setTimeout(r, 300));
      }
      // shard 1's two replicas hold the same rows; the shards together hold every row once
      expect(perNode[0]).toBe(perNode[1]);
      expect(perNode[0]! + perNode[2]!).toBe(ids.length);
      expect(perNode[0]).toBeGreaterThan(0);
      expect(perNode[2]).toBeGreaterThan(0);
      const [total] = await clickhouseRows<{ n: number }>(chUrl, `SELECT count() AS n FROM ${db}.all`);
      expect(Number(total!.n)).toBe(ids.length);
    } finally {
      await clickhouseQuery(chUrl, `DROP DATABASE IF EXISTS ${db} ON CLUSTER ${chCluster}`);
    }
  });
});
