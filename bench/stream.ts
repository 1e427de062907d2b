// Streaming throughput, CPU and latency, measured against real Kafka and ClickHouse (the env of
// deploy/local/stack) on a gateway log (~10 % of requests disclosing), each side beside the
// bare kafkajs client doing the least that answers the same question, in the same run: ship
// against a bare producer sending the same already-encoded messages with the same batching and
// compression, the detector alone against a bare consumer that only decodes (stream-roles.ts,
// one process each; both sides must handle exactly the same records). Then end to end, the
// produce → row-visible latency of single requests, and the CPU of each stage alone
// (stream-stages.ts). Own topics and database; the database is dropped at the end.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { AvroCodec } from '../services/avro/index.js';
import { Detector } from '../services/detector/index.js';
import { createMetrics, silentLogger } from '../services/observability/index.js';
import { migrateClickHouse, openClickHouseStore } from '../services/store/clickhouse/index.js';
import { StreamProducer } from '../services/kafka/index.js';
import { createKafkaClient, ensureTopics, fetchHighWatermarks, parseBrokers, topicNames } from '../services/kafka/index.js';
import { runRole, type RoleResult } from './stream-roles.js';
import type { StageCpu } from './stream-stages.js';
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
  /** bare kafkajs producer: the same messages, already encoded, with the shipper's batching and compression. */
  bareProducerRecordsPerSec: number;
  /** shipRecordsPerSec / bareProducerRecordsPerSec (goal ≥ 0.8), of the median round. */
  shipRatio: number;
  /** The ratio of each round, ship / bare producer and detect / bare consumer (the figures above are of the median round). */
  shipRatios: number[];
  detectRatios: number[];
  /** detector alone on a filled topic (a backfill): consume → detect → ClickHouse → commit. */
  detectRecordsPerSec: number;
  /** bare kafkajs consumer on the same topic: consume → decode → discard. */
  bareConsumerRecordsPerSec: number;
  /** e2eRecordsPerSec / bareConsumerRecordsPerSec. */
  ratio: number;
  /** detectRecordsPerSec / bareConsumerRecordsPerSec: the detector loop's cost against reading alone (goal ≥ 0.8). */
  detectRatio: number;
  /** The detector again over the same topic in the same process: session numbers parsed and subscribers protected before. */
  detectWarmRecordsPerSec: number;
  detectWarmRatio: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencySamples: number;
  /** Batches the detector took alone, and wall seconds inside store writes. */
  detectBatches: number;
  detectInsertSeconds: number;
  /** Batches the detector took in the end-to-end run (fewer, larger batches: fewer inserts). */
  e2eBatches: number;
  /** CPU microseconds per request of each process, measured in it over its timed part. */
  cpuUsPerRequest: { ship: number; bareProducer: number; detect: number; detectWarm: number; bareConsumer: number; e2eShip: number; e2eDetect: number };
  /** CPU microseconds per request by stage, each stage run alone (stream-stages.ts). */
  stages: StageCpu;
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

/** The group join finishes after start() returns; timing starts once partitions are assigned. */
async function waitAssigned(d: Detector): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((d.health().details.partitions as number[]).length === 0) {
    if (Date.now() > deadline) throw new Error('the detector got no partitions in 30 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Records in a topic: the sum of its partitions' high watermarks (the topics are new, nothing deleted). */
async function recordsIn(kafka: ReturnType<typeof createKafkaClient>, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let sum = 0n;
    for (const end of (await fetchHighWatermarks(admin, topic)).values()) sum += end;
    return Number(sum);
  } finally {
    await admin.disconnect();
  }
}

/** Runs `a` and `b` one after the other, `a` first in even rounds and `b` first in odd ones. */
async function inTurn<A, B>(round: number, a: () => Promise<A>, b: () => Promise<B>): Promise<[A, B]> {
  if (round % 2 === 0) {
    const x = await a();
    return [x, await b()];
  }
  const y = await b();
  return [await a(), y];
}

function same(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: ${got} records, expected ${want}: the two sides did not answer the same question`);
}

/** Which sides `benchStream` times: both (default), or only one (BENCH_STREAM_SIDE in bench/run.ts); a side not timed reports NaN. */
export type StreamSide = 'both' | 'ship' | 'detect';

export function streamSide(text: string): StreamSide {
  if (text === 'both' || text === 'ship' || text === 'detect') return text;
  throw new Error(`BENCH_STREAM_SIDE=${text}: expected ship, detect or both`);
}

/** What `BENCH_STREAM_SIDE=ship` measures: the producing rounds and ship's stages, nothing of the detector. */
export type ShipBenchResult = Pick<StreamBenchResult, 'requests' | 'shipRecordsPerSec' | 'bareProducerRecordsPerSec' | 'shipRatio' | 'shipRatios'> & {
  only: 'ship';
  cpuUsPerRequest: Pick<StreamBenchResult['cpuUsPerRequest'], 'ship' | 'bareProducer'>;
  stages: Pick<StageCpu, 'ship'>;
};

export async function benchStream(options: { requests?: number; latencySamples?: number; rounds?: number; only?: undefined; side?: StreamSide }): Promise<StreamBenchResult>;
export async function benchStream(options: { requests?: number; rounds?: number; only: 'ship' }): Promise<ShipBenchResult>;
export async function benchStream(options: { requests?: number; latencySamples?: number; rounds?: number; only?: 'ship'; side?: StreamSide } = {}): Promise<StreamBenchResult | ShipBenchResult> {
  const side = options.side ?? 'both';
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
    // A: end to end and latency; B: ship alone, then the bare consumer and the detector alone; P: the bare producer.
    // A: end to end and latency; B: ship's first round, then every bare-consumer and detector round.
    const prefixes = { a: `${run}.`, b: `${run}.b.` };
    for (const prefix of Object.values(prefixes)) await cli(['registry', 'publish', REGISTRY], { ...env, LEAKSCOPE_TOPIC_PREFIX: prefix });
    const topicsA = topicNames(prefixes.a);
    const topicsB = topicNames(prefixes.b);
    const rounds = Math.max(1, options.rounds ?? 3);
    const shipTopics = Array.from({ length: rounds }, (_, i) => (i === 0 ? topicsB : topicNames(`${run}.s${i}.`)));
    const bareTopics = Array.from({ length: rounds }, (_, i) => topicNames(`${run}.p${i}.`));
    const admin = kafka.admin();
    await admin.connect();
    for (const topics of [topicsA, ...shipTopics, ...bareTopics]) await ensureTopics(admin, topics);
    await admin.disconnect();
    const fileA = join(dir, 'a.ndjson');
    const fileB = join(dir, 'b.ndjson');
    writeLog(fileA, n, 'a');
    writeLog(fileB, n, 'b');
    const role = { brokers, requests: n };

    // 1. Producing, in rounds (the order alternating): the bare kafkajs producer and ship, on the same file, each into new topics.
    // With the detect side alone, one ship run fills topic B and nothing of it is reported.
    const producing: Array<{ ship: RoleResult; bare: RoleResult }> = [];
    if (side === 'detect') {
      same('ship (filling the topic)', (await runRole('ship', { ...role, topics: topicsB, file: fileB })).records, n);
      same(`topic ${topicsB.requests} after ship`, await recordsIn(kafka, topicsB.requests), n);
    }
    for (let i = 0; i < (side === 'detect' ? 0 : rounds); i++) {
      const runShip = () => runRole('ship', { ...role, topics: shipTopics[i]!, file: fileB });
      const runBare = () => runRole('bare-producer', { ...role, topics: bareTopics[i]!, file: fileB });
      const [ship, bare] = await inTurn(i, runShip, runBare);
      same('ship', ship.records, n);
      same('bare producer', bare.records, n);
      same(`topic ${shipTopics[i]!.requests} after ship`, await recordsIn(kafka, shipTopics[i]!.requests), n);
      same(`topic ${bareTopics[i]!.requests} after the bare producer`, await recordsIn(kafka, bareTopics[i]!.requests), n);
      producing.push({ ship, bare });
    }

    const perRequest = (cpuUs: number) => Number((cpuUs / n).toFixed(1));
    if (options.only === 'ship') {
      const rate = (r: { seconds: number }) => n / r.seconds;
      const mid = [...producing].sort((x, y) => rate(x.ship) / rate(x.bare) - rate(y.ship) / rate(y.bare))[Math.floor(producing.length / 2)]!;
      const { shipStages } = await runRole('stages', { ...role, topics: topicsB, file: fileB, shipOnly: true });
      return {
        only: 'ship', requests: n,
        shipRecordsPerSec: Math.round(rate(mid.ship)), bareProducerRecordsPerSec: Math.round(rate(mid.bare)),
        shipRatio: Number((rate(mid.ship) / rate(mid.bare)).toFixed(3)),
        shipRatios: producing.map((p) => Number((rate(p.ship) / rate(p.bare)).toFixed(3))),
        cpuUsPerRequest: { ship: perRequest(mid.ship.cpuUs), bareProducer: perRequest(mid.bare.cpuUs) },
        stages: { ship: shipStages! },
      };
    }

    // 2. Consuming what ship produced, in rounds likewise: the bare consumer and the detector alone (a backfill), each in a new group.
    const consuming: Array<{ detect: RoleResult; bare: RoleResult }> = [];
    for (let i = 0; i < (side === 'ship' ? 0 : rounds); i++) {
      const runBare = () => runRole('bare-consumer', { ...role, topics: topicsB, groupId: `bench-bare-${i}` });
      const runDetect = () => runRole('detect', { ...role, topics: topicsB, groupId: `bench-detect-${i}`, clickhouseUrl, hashKeyHex: HASH_KEY, encKeyHex: ENC_KEY });
      const [bare, detect] = await inTurn(i, runBare, runDetect);
      same('bare consumer', bare.records, n);
      same('detector', detect.records, n);
      same('detector, second pass', detect.again!.records, n);
      consuming.push({ detect, bare });
    }
    // The round whose ratio is the median stands for the run; every round's ratio is listed.
    const rateOf = (r: { seconds: number }) => n / r.seconds;
    const median = <T>(xs: T[], ratio: (x: T) => number, none: T): T => [...xs].sort((x, y) => ratio(x) - ratio(y))[Math.floor(xs.length / 2)] ?? none;
    const notRun: RoleResult = { seconds: NaN, cpuUs: NaN, records: NaN, again: { seconds: NaN, cpuUs: NaN, records: NaN } };
    const shipRatios = producing.map((p) => rateOf(p.ship) / rateOf(p.bare));
    const detectRatios = consuming.map((c) => rateOf(c.detect) / rateOf(c.bare));
    const { ship, bare: bareProducer } = median(producing, (p) => rateOf(p.ship) / rateOf(p.bare), { ship: notRun, bare: notRun });
    const { detect: detectAlone, bare: bareConsumer } = median(consuming, (c) => rateOf(c.detect) / rateOf(c.bare), { detect: notRun, bare: notRun });
    const warm = detectAlone.again!;

    // 3 and 4 need both sides (BENCH_STREAM_SIDE unset).
    const endToEnd = async () => {
      // 3. End to end: the detector (here) waits on the empty topic, then the file is shipped (a child, as in production).
      let storeA = await openClickHouseStore(clickhouseUrl);
      const metrics = createMetrics({ processMetrics: false });
      const marks: Record<string, number> = {};
      const mark = (k: string) => { marks[k] ??= Number(process.hrtime.bigint() - t0) / 1e6; };
      const storeE = watchedStore(storeA, { before: () => mark('firstWrite') });
      const detA = new Detector({ brokers, topics: topicsA, store: storeE, keys, logger: log, metrics, settings: { groupId: 'bench-e2e' } });
      await detA.start();
      await waitAssigned(detA);
      const forked = process.hrtime.bigint();
      let t0 = 0n;
      let detectCpu0 = process.cpuUsage();
      const e2eShip = await runRole('ship', { ...role, topics: topicsA, file: fileA }, () => {
        t0 = process.hrtime.bigint();
        detectCpu0 = process.cpuUsage();
      });
      const shipStartupMs = Number(t0 - forked) / 1e6;
      mark('shipped');
      while (detA.totals.records < n) await new Promise((r) => setTimeout(r, 5));
      const e2eSec = Number(process.hrtime.bigint() - t0) / 1e9;
      const detectCpu = process.cpuUsage(detectCpu0);
      if (process.env.LEAKSCOPE_BENCH_DEBUG) process.stderr.write(`${JSON.stringify(marks)}\n`);
      const disclosures = detA.totals.disclosures;
      const e2eBatches = detA.totals.batches;
      await detA.stop();

      // 4. Latency: one disclosing request at a time through a running detector.
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
      return { e2eSec, detectCpuUs: detectCpu.user + detectCpu.system, disclosures, e2eBatches, e2eShipCpuUs: e2eShip.cpuUs, shipStartupMs, latencies };
    };
    const whole = side === 'both' ? await endToEnd()
      : { e2eSec: NaN, detectCpuUs: NaN, disclosures: NaN, e2eBatches: NaN, e2eShipCpuUs: NaN, shipStartupMs: NaN, latencies: [] as number[] };
    const { e2eSec, disclosures, e2eBatches, shipStartupMs, latencies } = whole;

    // 5. Each stage alone, over file B's records.
    const { stages } = await runRole('stages', { ...role, topics: topicsB, file: fileB, registryFile: REGISTRY, clickhouseUrl, hashKeyHex: HASH_KEY, encKeyHex: ENC_KEY });

    const e2e = n / e2eSec;
    return {
      requests: n,
      disclosures,
      e2eRecordsPerSec: Math.round(e2e),
      shipRecordsPerSec: Math.round(rateOf(ship)),
      bareProducerRecordsPerSec: Math.round(rateOf(bareProducer)),
      shipRatio: Number((rateOf(ship) / rateOf(bareProducer)).toFixed(3)),
      shipRatios: shipRatios.map((r) => Number(r.toFixed(3))),
      detectRatios: detectRatios.map((r) => Number(r.toFixed(3))),
      detectRecordsPerSec: Math.round(rateOf(detectAlone)),
      bareConsumerRecordsPerSec: Math.round(rateOf(bareConsumer)),
      ratio: Number((e2e / rateOf(bareConsumer)).toFixed(3)),
      detectRatio: Number((rateOf(detectAlone) / rateOf(bareConsumer)).toFixed(3)),
      detectWarmRecordsPerSec: Math.round(rateOf(warm)),
      detectWarmRatio: Number((rateOf(warm) / rateOf(bareConsumer)).toFixed(3)),
      latencyP50Ms: Number(percentile(latencies, 50).toFixed(1)),
      latencyP99Ms: Number(percentile(latencies, 99).toFixed(1)),
      latencySamples: latencies.length,
      detectBatches: detectAlone.batches ?? 0,
      detectInsertSeconds: Number((detectAlone.insertSeconds ?? 0).toFixed(2)),
      e2eBatches,
      cpuUsPerRequest: {
        ship: perRequest(ship.cpuUs), bareProducer: perRequest(bareProducer.cpuUs), detect: perRequest(detectAlone.cpuUs), detectWarm: perRequest(warm.cpuUs), bareConsumer: perRequest(bareConsumer.cpuUs),
        e2eShip: perRequest(whole.e2eShipCpuUs), e2eDetect: perRequest(whole.detectCpuUs),
      },
      stages: stages!,
      shipStartupMs: Math.round(shipStartupMs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const client = createClient({ url: new URL('/', base).toString() });
    await client.command({ query: `DROP DATABASE IF EXISTS ${run}` }).catch(() => undefined);
    await client.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const requests = process.argv[2] ? Number(process.argv[2]) : undefined;
  benchStream(requests ? { requests } : {}).then(
    (r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
    (err) => { process.stderr.write(`${(err as Error).stack ?? err}\n`); process.exit(1); },
  );
}
