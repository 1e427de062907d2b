// How leakscope grows on the clusters of deploy/local/stack cluster-up (three Kafka brokers,
// ClickHouse with two shards, shard 1 with two replicas). On a 2-core machine more processes
// cannot be faster, so this measures the shape instead:
//   1. CPU per request of the detectors as partitions and detectors grow together (1, 2, 3
//      `Detector` processes in one group, each writing through its own ClickHouse node; all in
//      the group before the requests are shipped; CPU from consuming-started to stop, so it
//      includes the idle polling while the shipper runs);
//   2. the insert rate into the cluster, per shard, beside the single server's in the same run;
//   3. the 15-day report's time as the cluster's rows grow (1 M, then doubling up to a bound).
// Own topics and databases, dropped at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Writable } from 'node:stream';
import { main as cliMain } from '../services/cli/main.js';
import { createKafkaClient, ensureTopics, topicNames } from '../services/kafka/index.js';
import { silentLogger } from '../services/observability/index.js';
import { migrateClickHouse, openClickHouseStore } from '../services/store/clickhouse/index.js';
import { batchOf, post, rawClient, time, type LatencyResult } from './clickhouse.js';
import { incidentLog } from './incident-logs.js';

const HASH_KEY = '55'.repeat(32);
const ENC_KEY = '66'.repeat(32);
const D = 86_400_000;
const START = Date.parse('2012-01-10T00:00:00.000Z');

export interface DetectorRun {
  detectors: number;
  partitions: number;
  requests: number;
  /** CPU of all detectors from consuming-started to exit, per request, µs. */
  cpuUsPerRequest: number;
  /** Requests per CPU-second of one detector (the per-core figure for sizing). */
  requestsPerCpuSecond: number;
  /** Each detector's share of the requests. */
  split: number[];
  wallSeconds: number;
}

export interface GrowthPoint { rows: number; report15d: LatencyResult }

export interface ClusterBenchResult {
  server: string;
  detectorRuns: DetectorRun[];
  insert: { rows: number; clusterRowsPerSec: number; perShardRowsPerSec: number[]; singleRowsPerSec: number };
  growth: GrowthPoint[];
  single1M: LatencyResult | null;
}

function env(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set: start the clusters with eval "$(bash deploy/local/stack cluster-up)"`);
  return value;
}

function compiledRoot(): string {
  // dist-bench/bench/cluster.js → dist-bench/
  return dirname(dirname(fileURLToPath(import.meta.url)));
}

async function cli(argv: string[], extraEnv: Record<string, string>): Promise<string> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } });
  const err = new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } });
  const stdin = new PassThrough();
  stdin.end();
  const code = await cliMain(argv, { stdout: out, stderr: err, stdin, env: { PATH: process.env.PATH ?? '', LEAKSCOPE_LOG_LEVEL: 'silent', ...extraEnv }, cwd: process.cwd() });
  if (code !== 0) throw new Error(`leakscope ${argv.join(' ')} exited ${code}: ${Buffer.concat(chunks).toString('utf8').slice(0, 2000)}`);
  return Buffer.concat(chunks).toString('utf8');
}

interface ChildDetector {
  /** Resolves when the detector consumes (its start() returned). */
  started: Promise<void>;
  /** SIGTERM: the detector stops, then reports its records and CPU since it started consuming. */
  stop(): Promise<{ records: number; cpuUs: number }>;
}

/** One Detector in its own process, until stopped. */
function detectorProcess(brokers: string[], prefix: string, group: string, clickhouseUrl: string): ChildDetector {
  const url = (p: string) => JSON.stringify(new URL(p, `file://${compiledRoot()}/`).href);
  const script = `
    const { Detector } = await import(${url('services/detector/index.js')});
    const { openClickHouseStore } = await import(${url('services/store/clickhouse/index.js')});
    const { topicNames } = await import(${url('services/kafka/index.js')});
    const { createMetrics, silentLogger } = await import(${url('services/observability/index.js')});
    const store = await openClickHouseStore(${JSON.stringify(clickhouseUrl)});
    const detector = new Detector({
      brokers: ${JSON.stringify(brokers)}, topics: topicNames(${JSON.stringify(prefix)}), store,
      keys: { hashKey: Buffer.from('${HASH_KEY}', 'hex'), encKey: Buffer.from('${ENC_KEY}', 'hex') },
      logger: silentLogger(), metrics: createMetrics({ processMetrics: false }),
      settings: { groupId: ${JSON.stringify(group)}, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, heartbeatIntervalMs: 1000 },
    });
    process.once('SIGTERM', async () => {
      await detector.stop();
      const cpu = process.cpuUsage(cpu0);
      await store.close();
      process.stdout.write(JSON.stringify({ records: detector.totals.records, cpuUs: cpu.user + cpu.system }) + '\\n');
      process.exit(0);
    });
    await detector.start();
    const cpu0 = process.cpuUsage();
    process.stdout.write('started\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => { onStarted = resolve; });
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (stdout.includes('started\n')) onStarted();
  });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    started: Promise.race([started, closed.then((code) => { throw new Error(`detector process exited ${code} before it started: ${stderr.slice(0, 2000)}`); })]),
    async stop() {
      child.kill('SIGTERM');
      const code = await closed;
      if (code !== 0) throw new Error(`detector process exited ${code}: ${stderr.slice(0, 2000)}`);
      return JSON.parse(stdout.trim().split('\n').pop()!) as { records: number; cpuUs: number };
    },
  };
}

async function benchDetectors(brokers: string[], nodes: string[], cluster: string, requests: number): Promise<DetectorRun[]> {
  const log = await incidentLog('ndjson', requests);
  const runs: DetectorRun[] = [];
  for (const k of [1, 2, 3]) {
    const prefix = `bench_cluster_${randomBytes(3).toString('hex')}.`;
    const db = `lk_bench_cluster_det_${randomBytes(3).toString('hex')}`;
    const dbUrl = (node: string) => new URL(`/${db}`, node).toString();
    await migrateClickHouse(dbUrl(nodes[0]!), {}, { cluster });
    const kafka = createKafkaClient({ brokers, clientId: 'bench-cluster', logger: silentLogger() });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicNames(prefix), { requestPartitions: k });
    const cliEnv = { KAFKA_BROKERS: brokers.join(','), LEAKSCOPE_TOPIC_PREFIX: prefix, CLICKHOUSE_URL: dbUrl(nodes[0]!), LEAKSCOPE_HASH_KEY: HASH_KEY, LEAKSCOPE_ENC_KEY: ENC_KEY };
    try {
      await cli(['registry', 'publish', log.registry], cliEnv);
      // All k in the group before the requests arrive, so that each gets its partition from the start.
      const group = `bench-${k}`;
      const children = Array.from({ length: k }, (_, i) => detectorProcess(brokers, prefix, group, dbUrl(nodes[i % nodes.length]!)));
      await Promise.all(children.map((c) => c.started));
      await waitUntil(async () => {
        const [g] = (await admin.describeGroups([group])).groups;
        return g?.state === 'Stable' && g.members.length === k;
      });
      const t = process.hrtime.bigint();
      await cli(['ship', log.file], cliEnv);
      const requestsTopic = topicNames(prefix).requests;
      const ends = await admin.fetchTopicOffsets(requestsTopic);
      await waitUntil(async () => {
        const committed = (await admin.fetchOffsets({ groupId: group, topics: [requestsTopic] }))[0]!.partitions;
        return ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.high);
      });
      const results = await Promise.all(children.map((c) => c.stop()));
      const wallSeconds = Number(process.hrtime.bigint() - t) / 1e9;
      const records = results.reduce((n, r) => n + r.records, 0);
      const cpuUs = results.reduce((n, r) => n + r.cpuUs, 0);
      runs.push({
        detectors: k, partitions: k, requests: records,
        cpuUsPerRequest: Math.round((cpuUs / records) * 10) / 10,
        requestsPerCpuSecond: Math.round(records / (cpuUs / 1e6)),
        split: results.map((r) => r.records),
        wallSeconds: Math.round(wallSeconds * 10) / 10,
      });
    } finally {
      await admin.disconnect();
      const base = rawClient(nodes[0]!);
      await post(base, `DROP DATABASE IF EXISTS ${db} ON CLUSTER ${cluster}`);
      await base.close();
    }
  }
  return runs;
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`bench cluster: timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Rows of the bench data set [from, to) written through `store` in batches; seconds taken. */
async function fill(store: { write(rows: ReturnType<typeof batchOf>): Promise<void> }, from: number, to: number, batch = 50_000): Promise<number> {
  const random = lcgFrom(from);
  const t = process.hrtime.bigint();
  for (let i = from; i < to; i += batch) await store.write(batchOf(i, Math.min(batch, to - i), 200_000, 20_000, random));
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function lcgFrom(seed: number): () => number {
  let state = (seed ^ 0x5bd1e995) >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export async function benchCluster(options: { requests?: number; insertRows?: number; maxRows?: number; runs?: number } = {}): Promise<ClusterBenchResult> {
  const brokers = env('KAFKA_CLUSTER_BROKERS').split(',');
  const nodes = env('CLICKHOUSE_CLUSTER_NODES').split(',').map((u) => new URL('/', u).toString());
  const cluster = env('CLICKHOUSE_CLUSTER');
  const single = env('CLICKHOUSE_URL');
  const insertRows = options.insertRows ?? 400_000;
  const maxRows = options.maxRows ?? 4_000_000;
  const runs = options.runs ?? 5;
  if (!existsSync(join(compiledRoot(), 'services/detector/index.js'))) throw new Error('run through `npm run bench` (compiles dist-bench/)');

  // requests 0: the ClickHouse figures only.
  const requests = options.requests ?? 150_000;
  const detectorRuns = requests > 0 ? await benchDetectors(brokers, nodes, cluster, requests) : [];

  const db = `lk_bench_cluster_${randomBytes(3).toString('hex')}`;
  const singleDb = `lk_bench_single_${randomBytes(3).toString('hex')}`;
  const clusterUrl = new URL(`/${db}`, nodes[0]!).toString();
  const singleUrl = new URL(`/${singleDb}`, single).toString();
  const migrated = await migrateClickHouse(clusterUrl, {}, { cluster });
  await migrateClickHouse(singleUrl);
  const store = await openClickHouseStore(clusterUrl, { maxRowsPerInsert: 50_000, requestTimeoutMs: 600_000 });
  const singleStore = await openClickHouseStore(singleUrl, { maxRowsPerInsert: 50_000, requestTimeoutMs: 600_000 });
  const shard1 = rawClient(nodes[0]!);
  const shard2 = rawClient(nodes[nodes.length - 1]!);
  const singleRaw = rawClient(single);
  const full = { from: START, to: START + 15 * D };
  try {
    // 2. The same rows into the cluster and into the single server, one after the other.
    const clusterSeconds = await fill(store, 0, insertRows);
    const singleSeconds = await fill(singleStore, 0, insertRows);
    const onShard = async (c: typeof shard1) => Number((await post(c, `SELECT count() FROM ${db}.disclosures_local`)).trim());
    const perShard = [await onShard(shard1), await onShard(shard2)];

    // 3. Grow the cluster's rows: 1 M, then doubling, up to maxRows (and the single server at 1 M).
    const growth: GrowthPoint[] = [];
    let rows = insertRows;
    let single1M: LatencyResult | null = null;
    const targets: number[] = [];
    for (let t = 1_000_000; t < maxRows; t *= 2) targets.push(t);
    targets.push(Math.max(maxRows, insertRows));
    for (const target of targets) {
      await fill(store, rows, target);
      rows = target;
      growth.push({ rows, report15d: await time(runs, () => store.report(full)) });
      if (single1M === null) {
        // The single server at the first size, for the ratio cluster / single.
        await fill(singleStore, insertRows, target);
        single1M = await time(runs, () => singleStore.report(full));
      }
    }
    return {
      server: migrated.server.text,
      detectorRuns,
      insert: {
        rows: insertRows,
        clusterRowsPerSec: Math.round(insertRows / clusterSeconds),
        perShardRowsPerSec: perShard.map((n) => Math.round(n / clusterSeconds)),
        singleRowsPerSec: Math.round(insertRows / singleSeconds),
      },
      growth,
      single1M,
    };
  } finally {
    await store.close();
    await singleStore.close();
    await post(shard1, `DROP DATABASE IF EXISTS ${db} ON CLUSTER ${cluster}`);
    await post(singleRaw, `DROP DATABASE IF EXISTS ${singleDb}`);
    await Promise.all([shard1.close(), shard2.close(), singleRaw.close()]);
  }
}
