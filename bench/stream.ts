// Streaming throughput and latency, measured against real Kafka and ClickHouse (the env of
// deploy/local/stack): a gateway log (~10 % of requests disclosing) shipped to Kafka and run
// through the detector into ClickHouse, beside a bare kafkajs consumer that only decodes and
// discards the same topic, in the same run on the same machine. Then produce → row-visible
// latency of single requests through a running detector. Own topics and database; the
// database is dropped at the end.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { AvroCodec, fromAvroGatewayRequest } from '../services/avro/index.js';
import { DEFAULT_DETECTOR_SETTINGS, Detector } from '../services/detector/index.js';
import { createMetrics, silentLogger } from '../services/observability/index.js';
import { migrateClickHouse, openClickHouseStore } from '../services/store/clickhouse/index.js';
import { StreamProducer } from '../services/kafka/index.js';
import { shipInputs } from '../services/shipper/index.js';
import { createKafkaClient, ensureTopics, parseBrokers, topicNames, type TopicNames } from '../services/kafka/index.js';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { DisclosureStore, StoredDisclosure } from '../services/store/index.js';
import { main as cliMain } from '../services/cli/main.js';
import { PassThrough } from 'node:stream';

export interface StreamBenchResult {
  requests: number;
  disclosures: number;
  /** log file → ship → Kafka → detect → ClickHouse, ship and detector running at once. */
  e2eRecordsPerSec: number;
  /** ship alone: file → Avro → Kafka, acknowledged. */
  shipRecordsPerSec: number;
  /** detector alone on a filled topic (a backfill): consume → detect → ClickHouse → commit. */
  detectRecordsPerSec: number;
  /** bare kafkajs consumer on the same topic: consume → decode → discard. */
  bareConsumerRecordsPerSec: number;
  /** e2eRecordsPerSec / bareConsumerRecordsPerSec. */
  ratio: number;
  /** detectRecordsPerSec / bareConsumerRecordsPerSec: the detector loop's cost against reading alone. */
  detectRatio: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencySamples: number;
  /** Where the detector's time went in the detect-alone run: batches, and wall seconds inside store.write. */
  detectBatches: number;
  /** Batches the detector took in the end-to-end run (fewer, larger batches: fewer inserts). */
  e2eBatches: number;
  detectInsertSeconds: number;
  /** CPU of the end-to-end run per request, microseconds: the shipper process, and the detector's (this process). */
  e2eShipCpuUsPerRequest: number;
  e2eDetectCpuUsPerRequest: number;
  /** Start-up of the shipper's process (fork, imports, producer connected); not in the end-to-end time. */
  shipStartupMs: number;
}

const HASH_KEY = '33'.repeat(32);
const ENC_KEY = '44'.repeat(32);
// From bench/ (sources) or dist-bench/bench/ (compiled): the fixture is found upwards.
const REGISTRY = [1, 2].map((up) => fileURLToPath(new URL(`${'../'.repeat(up)}test/fixtures/incident/registry.yaml`, import.meta.url))).find((p) => existsSync(p))!;

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const SITES = ['www.news.co.uk', 'm.shop.com', 'static.cdn.example', 'www.bbc.co.uk', 'pay.billing.example', 'www.ageverify.example', 'ads.tracker.example', 'm.social.co.uk'];

/** NDJSON gateway log of `n` requests in January 2012; every tenth carries X-MSISDN. */
function writeLog(path: string, n: number, salt: string): void {
  const random = lcg(7);
  const lines: string[] = [];
  const start = Date.parse('2012-01-10T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const msisdn = `4477009${String(Math.floor(random() * 100000)).padStart(5, '0')}`;
    const host = i % 10 === 0 ? `www.site${Math.floor(random() * 3000)}.example` : SITES[Math.floor(random() * SITES.length)]!;
    const headers: Record<string, string> = { Host: host, 'User-Agent': 'Mozilla/5.0 (Linux; Android 2.3.6)', Accept: '*/*' };
    if (i % 10 === 0) headers['X-MSISDN'] = msisdn;
    lines.push(JSON.stringify({
      ts: new Date(start + i * 37).toISOString(), gateway_id: 'gw-bench', request_id: `${salt}-${i}`, msisdn, bearer: '3g', client_ip: '10.1.2.3',
      method: 'GET', url: `http://${host}/news/item?id=${i}`, headers, status: 200, bytes: 5120,
    }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function cli(argv: string[], env: Record<string, string>): Promise<void> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  err.on('data', (c: Buffer) => chunks.push(c));
  out.resume();
  const stdin = new PassThrough();
  stdin.end();
  const code = await cliMain(argv, { stdout: out, stderr: err, stdin, env, cwd: process.cwd() });
  if (code !== 0) throw new Error(`leakscope ${argv.join(' ')}: exit ${code}: ${Buffer.concat(chunks).toString()}`);
}

/** Wraps a store to see when rows become visible (a ClickHouse INSERT is readable once it returns). */
function watchedStore(inner: DisclosureStore, hooks: { before?: () => void; visible?: (rows: readonly StoredDisclosure[]) => void }): DisclosureStore {
  return {
    write: async (batch) => {
      hooks.before?.();
      await inner.write(batch);
      hooks.visible?.(batch);
    },
    report: (w, s) => inner.report(w, s),
    whoSaw: (h, w) => inner.whoSaw(h, w),
    affected: (w) => inner.affected(w),
    readMeta: () => inner.readMeta(),
    writeMeta: (m) => inner.writeMeta(m),
    auditTrail: () => inner.auditTrail(),
    writeAlerts: (a) => inner.writeAlerts(a),
    recentAlerts: (o) => inner.recentAlerts(o),
    alertedSites: () => inner.alertedSites(),
    close: () => inner.close(),
  };
}

/**
 * `leakscope ship` in a child process (same Node flags and loaders as this one). `onReady` runs
 * when the child has its producer connected and starts reading the file: the process start-up
 * is not shipping (ship alone, below, reuses a connected producer too). Resolves with the CPU
 * microseconds the child spent shipping.
 */
async function shipInChild(file: string, brokers: readonly string[], topics: TopicNames, onReady: () => void): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ['--ship-child', file, brokers.join(','), JSON.stringify(topics)], { stdio: 'inherit' });
  let cpuUs = NaN;
  child.on('message', (m: { ready?: boolean; cpuUs?: number }) => {
    if (m.ready) onReady();
    if (m.cpuUs !== undefined) cpuUs = m.cpuUs;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the shipper child exited ${code}`);
  return cpuUs;
}

async function shipChild(file: string, brokers: string, topicsJson: string): Promise<void> {
  const log = silentLogger();
  const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'leakscope-bench-ship', logger: log });
  const producer = new StreamProducer(kafka, new AvroCodec());
  await producer.connect();
  const metrics = createMetrics({ processMetrics: false });
  const cpu0 = process.cpuUsage();
  process.send?.({ ready: true });
  await shipInputs([file], { producer, topics: JSON.parse(topicsJson) as TopicNames, format: 'ndjson', metrics, logger: log });
  const cpu = process.cpuUsage(cpu0);
  await new Promise<void>((resolve) => process.send!({ cpuUs: cpu.user + cpu.system }, () => resolve()));
  await producer.disconnect();
}

/** The group join finishes after start() returns; timing starts once partitions are assigned. */
async function waitAssigned(d: Detector): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((d.health().details.partitions as number[]).length === 0) {
    if (Date.now() > deadline) throw new Error('the detector got no partitions in 30 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function benchStream(options: { requests?: number; latencySamples?: number } = {}): Promise<StreamBenchResult> {
  const n = options.requests ?? 400_000;
  const brokers = parseBrokers(process.env.KAFKA_BROKERS, 'KAFKA_BROKERS');
  const base = process.env.CLICKHOUSE_URL;
  if (!base) throw new Error('CLICKHOUSE_URL is not set: run eval "$(deploy/local/stack up)"');
  const run = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const chUrl = new URL(base);
  chUrl.pathname = `/${run}`;
  const clickhouseUrl = chUrl.toString();
  const dir = mkdtempSync(join(tmpdir(), 'lk-bench-stream-'));
  const env = {
    KAFKA_BROKERS: brokers.join(','), CLICKHOUSE_URL: clickhouseUrl, LEAKSCOPE_TOPIC_PREFIX: `${run}.`,
    LEAKSCOPE_HASH_KEY: HASH_KEY, LEAKSCOPE_ENC_KEY: ENC_KEY, LEAKSCOPE_LOG_LEVEL: 'silent',
  };
  const keys = { hashKey: Buffer.from(HASH_KEY, 'hex'), encKey: Buffer.from(ENC_KEY, 'hex') };
  const log = silentLogger();
  const kafka = createKafkaClient({ brokers, clientId: 'leakscope-bench', logger: log });
  const codec = new AvroCodec();
  try {
    await migrateClickHouse(clickhouseUrl);
    await cli(['registry', 'publish', REGISTRY], env);
    await cli(['registry', 'publish', REGISTRY], { ...env, LEAKSCOPE_TOPIC_PREFIX: `${run}.b.` });
    const topicsA = topicNames(`${run}.`);
    const topicsB = topicNames(`${run}.b.`);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicsA);
    await ensureTopics(admin, topicsB);
    await admin.disconnect();
    const fileA = join(dir, 'a.ndjson');
    const fileB = join(dir, 'b.ndjson');
    writeLog(fileA, n, 'a');
    writeLog(fileB, n, 'b');

    const producer = new StreamProducer(kafka, codec);
    await producer.connect();
    const metrics = createMetrics({ processMetrics: false });
    const ship = (file: string, topics = topicsA) => shipInputs([file], { producer, topics, format: 'ndjson', metrics, logger: log });

    // 1. End to end: the detector waits on the empty topic, then the file is shipped.
    let disclosures = 0;
    let storeA = await openClickHouseStore(clickhouseUrl);
    const marks: Record<string, number> = {};
    const mark = (k: string) => { marks[k] ??= Number(process.hrtime.bigint() - t0) / 1e6; };
    const storeE = watchedStore(storeA, { before: () => mark('firstWrite') });
    const detA = new Detector({ brokers, topics: topicsA, store: storeE, keys, logger: log, metrics, settings: { groupId: 'bench-e2e' } });
    await detA.start();
    await waitAssigned(detA);
    const forked = process.hrtime.bigint();
    let t0 = 0n;
    let detectCpu0 = process.cpuUsage();
    // The shipper runs in its own process, as in production: sharing the detector's event loop would measure neither.
    const shipCpuUs = await shipInChild(fileA, brokers, topicsA, () => {
      t0 = process.hrtime.bigint();
      detectCpu0 = process.cpuUsage();
    });
    const shipStartupMs = Number(t0 - forked) / 1e6;
    mark('shipped');
    while (detA.totals.records < n) await new Promise((r) => setTimeout(r, 5));
    const e2eSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const detectCpu = process.cpuUsage(detectCpu0);
    if (process.env.LEAKSCOPE_BENCH_DEBUG) process.stderr.write(`${JSON.stringify(marks)}\n`);
    disclosures = detA.totals.disclosures;
    const e2eBatches = detA.totals.batches;
    await detA.stop();

    // 2. Ship alone, into a second set of topics.
    const s0 = process.hrtime.bigint();
    await ship(fileB, topicsB);
    const shipSec = Number(process.hrtime.bigint() - s0) / 1e9;
    await producer.disconnect();

    // 3. Bare consumer on the filled topic: decode and discard.
    // The detector's fetch settings and concurrency, so only the work per batch differs.
    const d = DEFAULT_DETECTOR_SETTINGS;
    const bare = kafka.consumer({
      groupId: 'bench-bare', maxBytes: d.maxBytes, maxBytesPerPartition: d.maxBytesPerPartition, minBytes: d.minBytes, maxWaitTimeInMs: d.maxWaitTimeMs,
      sessionTimeout: 10_000, heartbeatInterval: 1000,
    });
    await bare.connect();
    await bare.subscribe({ topics: [topicsB.requests], fromBeginning: true });
    let seen = 0;
    let b0 = 0n;
    // Timed from the group join (partitions assigned), as the detector below: the first fetch counts.
    bare.on(bare.events.GROUP_JOIN, () => { b0 = process.hrtime.bigint(); });
    await bare.run({
      partitionsConsumedConcurrently: d.partitionsConsumedConcurrently,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (m.value) fromAvroGatewayRequest(codec.decodeAs('GatewayRequest', m.value));
        }
        seen += batch.messages.length;
      },
    });
    while (seen < n) await new Promise((r) => setTimeout(r, 5));
    const bareSec = Number(process.hrtime.bigint() - b0) / 1e9;
    await bare.disconnect();

    // 4. Detector alone on the same filled topic (a backfill), timed from its group join likewise.
    const storeB = await openClickHouseStore(clickhouseUrl);
    let d0 = 0n;
    const wrapped = storeB;
    const metricsB = createMetrics({ processMetrics: false });
    const detB = new Detector({ brokers, topics: topicsB, store: wrapped, keys, logger: log, metrics: metricsB, settings: { groupId: 'bench-detect' } });
    await detB.start();
    await waitAssigned(detB);
    d0 = process.hrtime.bigint();
    while (detB.totals.records < n) await new Promise((r) => setTimeout(r, 5));
    const detectSec = Number(process.hrtime.bigint() - d0) / 1e9;
    await detB.stop();
    const insertSum = (await metricsB.insertSeconds.get()).values.filter((v) => v.metricName === 'leakscope_insert_seconds_sum').reduce((a, v) => a + v.value, 0);
    const detectBatches = detB.totals.batches;

    // 5. Latency: one disclosing request at a time through a running detector.
    const samples = options.latencySamples ?? 200;
    const sent = new Map<string, number>();
    const latencies: number[] = [];
    storeA = await openClickHouseStore(clickhouseUrl);
    const storeL = watchedStore(storeA, {
      visible: (rows) => {
        const now = performance.now();
        for (const r of rows) {
          const t = sent.get(r.requestKey);
          if (t !== undefined) {
            latencies.push(now - t);
            sent.delete(r.requestKey);
          }
        }
      },
    });
    const detL = new Detector({ brokers, topics: topicsA, store: storeL, keys, logger: log, metrics, settings: { groupId: 'bench-e2e' } });
    await detL.start();
    const probe = new StreamProducer(kafka, codec);
    await probe.connect();
    for (let i = 0; i < samples; i++) {
      const requestKey = `gw-probe:${i}`;
      const request = {
        ts: Date.parse('2012-01-20T00:00:00Z') + i, requestKey, gatewayId: 'gw-probe', requestId: String(i), msisdn: '447700900123', bearer: null, clientIp: null,
        method: 'GET', scheme: 'http', host: 'www.probe.example', port: null, path: '/', query: '', headers: [['x-msisdn', '447700900123']] as Array<readonly [string, string]>,
        status: 200, bytes: null,
      };
      sent.set(requestKey, performance.now());
      await probe.send([{ topic: topicsA.requests, messages: probe.requestMessages([request]) }]);
      await new Promise((r) => setTimeout(r, 20));
    }
    const deadline = Date.now() + 30_000;
    while (sent.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await probe.disconnect();
    await detL.stop();
    latencies.sort((a, b) => a - b);

    const e2e = n / e2eSec;
    const bareRate = n / bareSec;
    const detectRate = n / detectSec;
    return {
      requests: n,
      disclosures,
      e2eRecordsPerSec: Math.round(e2e),
      shipRecordsPerSec: Math.round(n / shipSec),
      detectRecordsPerSec: Math.round(detectRate),
      bareConsumerRecordsPerSec: Math.round(bareRate),
      ratio: Number((e2e / bareRate).toFixed(3)),
      detectRatio: Number((detectRate / bareRate).toFixed(3)),
      latencyP50Ms: Number(percentile(latencies, 50).toFixed(1)),
      latencyP99Ms: Number(percentile(latencies, 99).toFixed(1)),
      latencySamples: latencies.length,
      detectBatches,
      e2eBatches,
      detectInsertSeconds: Number(insertSum.toFixed(2)),
      e2eShipCpuUsPerRequest: Number((shipCpuUs / n).toFixed(1)),
      e2eDetectCpuUsPerRequest: Number(((detectCpu.user + detectCpu.system) / n).toFixed(1)),
      shipStartupMs: Math.round(shipStartupMs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const client = createClient({ url: new URL('/', base).toString() });
    await client.command({ query: `DROP DATABASE IF EXISTS ${run}` }).catch(() => undefined);
    await client.close();
  }
}

if (process.argv[2] === '--ship-child') {
  shipChild(process.argv[3]!, process.argv[4]!, process.argv[5]!).then(
    () => process.exit(0),
    (err) => { process.stderr.write(`${(err as Error).stack ?? err}\n`); process.exit(1); },
  );
} else if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const requests = process.argv[2] ? Number(process.argv[2]) : undefined;
  benchStream(requests ? { requests } : {}).then(
    (r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
    (err) => { process.stderr.write(`${(err as Error).stack ?? err}\n`); process.exit(1); },
  );
}
