// `npm run bench -- alerts`: how long an alert takes to reach a webhook. (1) Streaming: the
// detector consumes a steady background of gateway traffic while violating requests for new
// sites are injected; each is timed from its produce call to its arrival at a webhook
// receiver run here, through detect → leak-alerts → notify. (2) watch: the same from a line's
// append to a log file. Needs KAFKA_BROKERS and CLICKHOUSE_URL (eval "$(deploy/local/stack up)").
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AvroCodec, type AvroLeakAlert } from '../services/avro/index.js';
import type { GatewayRequest } from '../services/core/types.js';
import { Detector, alertId, type BatchTimes } from '../services/detector/index.js';
import { readRegistryFile } from '../services/files/index.js';
import { StreamProducer, createKafkaClient, ensureTopics, parseBrokers, topicNames } from '../services/kafka/index.js';
import { Notifier, notifyConfig } from '../services/notify/index.js';
import { createMetrics, silentLogger } from '../services/observability/index.js';
import { migrateClickHouse, openClickHouseStore } from '../services/store/clickhouse/index.js';
import { openDuckDbStore } from '../services/store/duckdb/index.js';
import { createWatchTelemetry, runWatch } from '../services/watch/index.js';
import { main as cliMain } from '../services/cli/main.js';
import { PassThrough } from 'node:stream';

const HASH_KEY = '44'.repeat(32);
const ENC_KEY = '55'.repeat(32);
const REGISTRY = [1, 2].map((up) => fileURLToPath(new URL(`${'../'.repeat(up)}test/fixtures/incident/registry.yaml`, import.meta.url))).find((p) => existsSync(p))!;

export interface LatencyFigures { samples: number; p50Ms: number; p99Ms: number; maxMs: number }

/** One background rate held while `alerts` violating requests for new sites were injected. */
export interface StreamStep {
  target: number;
  perSec: number;
  /** Every injected alert reached the webhook and the detector's lag was back to 0 after the step. */
  keptUp: boolean;
  total: LatencyFigures;
  /** The hops of each alert, by wall clock: produce call → detector fetched its batch → judged → alert acknowledged in leak-alerts → notify read it → webhook. */
  hops: { fetch: LatencyFigures; judge: LatencyFigures; raise: LatencyFigures; toNotify: LatencyFigures; deliver: LatencyFigures };
  /** Per batch of the step: the store write and the commit, which the alerts no longer wait for. */
  batchStoreMs: LatencyFigures;
  batchCommitMs: LatencyFigures;
}

export interface WatchStep { target: number; perSec: number; keptUp: boolean; total: LatencyFigures }

export interface AlertsBenchResult {
  stream: StreamStep[];
  /** The highest background rate whose step kept up with p99 < 1 s (null: none did). */
  bestStream: StreamStep | null;
  watch: WatchStep[];
  bestWatch: WatchStep | null;
  loadAverage: number[];
}

const GOAL_P99_MS = 1000;

function figures(latencies: number[]): LatencyFigures {
  const s = [...latencies].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
  return { samples: s.length, p50Ms: at(50), p99Ms: at(99), maxMs: s[s.length - 1] ?? NaN };
}

/** A webhook receiver: the arrival time of every first_disclosure, by site. */
async function receiver(): Promise<{ url: string; arrivals: Map<string, number>; detected: Map<string, number>; arrivedWall: Map<string, number>; close: () => Promise<void> }> {
  const arrivals = new Map<string, number>();
  const detected = new Map<string, number>();
  const arrivedWall = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      for (const a of (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: AvroLeakAlert[] }).alerts) {
        if (a.kind === 'first_disclosure' && a.site !== null && !arrivals.has(a.site)) {
          arrivals.set(a.site, at);
          detected.set(a.site, a.detected_at);
          arrivedWall.set(a.site, Date.now());
        }
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    detected,
    arrivedWall,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

let seq = 0;
/** Background traffic: authorised partner requests and requests that disclose nothing. */
function background(ts: number): GatewayRequest {
  const i = seq++;
  const msisdn = `4477009${String(i % 100_000).padStart(5, '0')}`;
  const partner = i % 10 === 0;
  const host = partner ? 'www.ageverify.example' : `www.news${i % 50}.co.uk`;
  const headers: Array<readonly [string, string]> = [['host', host], ['user-agent', 'Mozilla/5.0 (Linux; Android 2.3.6)']];
  if (partner) headers.push(['x-up-calling-line-id', msisdn]);
  return { ts, requestKey: `bg:${i}`, gatewayId: 'gw-bench', requestId: String(i), msisdn, bearer: '3g', clientIp: '10.0.0.1', method: 'GET', scheme: 'http', host, port: 80, path: '/', query: `id=${i}`, headers, status: 200, bytes: 512 };
}

function violating(site: string, ts: number): GatewayRequest {
  const i = seq++;
  const msisdn = `4477009${String(i % 100_000).padStart(5, '0')}`;
  const host = `www.${site}`;
  return { ts, requestKey: `leak:${site}`, gatewayId: 'gw-bench', requestId: site, msisdn, bearer: '3g', clientIp: '10.0.0.1', method: 'GET', scheme: 'http', host, port: 80, path: '/', query: '', headers: [['host', host], ['x-up-calling-line-id', msisdn]], status: 200, bytes: 512 };
}

function ndjson(r: GatewayRequest): string {
  return JSON.stringify({ ts: new Date(r.ts).toISOString(), gateway_id: r.gatewayId, request_id: r.requestId, msisdn: r.msisdn, method: 'GET', url: `http://${r.host}/?${r.query}`, headers: Object.fromEntries(r.headers), status: 200, bytes: 512 });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function cli(argv: string[], env: Record<string, string>): Promise<void> {
  const out = new PassThrough();
  out.resume();
  const stdin = new PassThrough();
  stdin.end();
  const code = await cliMain(argv, { stdout: out, stderr: out, stdin, env, cwd: process.cwd() });
  if (code !== 0) throw new Error(`leakscope ${argv.join(' ')}: exit ${code}`);
}

/**
 * The rates tried, in order: up the ladder while a step meets the goal, then one step half-way
 * between the last that did and the first that did not. BENCH_ALERTS_RATES overrides the ladder.
 */
async function search<T extends { target: number; keptUp: boolean; total: LatencyFigures }>(ladder: readonly number[], step: (rate: number) => Promise<T>): Promise<{ steps: T[]; best: T | null }> {
  const steps: T[] = [];
  const meets = (r: T): boolean => r.keptUp && r.total.samples > 0 && r.total.p99Ms < GOAL_P99_MS;
  let best: T | null = null;
  let failedAt: number | null = null;
  for (const rate of ladder) {
    const r = await step(rate);
    steps.push(r);
    if (!meets(r)) { failedAt = rate; break; }
    best = r;
  }
  if (failedAt !== null && best !== null && failedAt > best.target * 1.2) {
    const r = await step(Math.round((best.target + failedAt) / 2));
    steps.push(r);
    if (meets(r)) best = r;
  }
  return { steps, best };
}

function ladderFrom(env: string | undefined, fallback: number[]): number[] {
  if (!env) return fallback;
  const rates = env.split(',').map(Number);
  if (rates.some((r) => !Number.isInteger(r) || r < 0)) throw new Error(`BENCH_ALERTS_RATES: ${env}: expected rates in requests per second, e.g. 500,1000,2000`);
  return rates;
}

export async function benchAlerts(options: { rates?: number[]; watchRates?: number[]; alerts?: number } = {}): Promise<AlertsBenchResult> {
  const ladder = options.rates ?? ladderFrom(process.env.BENCH_ALERTS_RATES, [250, 500, 1000, 2000, 4000, 8000, 16000]);
  const watchLadder = options.watchRates ?? ladderFrom(process.env.BENCH_ALERTS_WATCH_RATES, [500, 1000, 2000, 4000, 8000, 16000]);
  const count = options.alerts ?? Number(process.env.BENCH_ALERTS_COUNT ?? 220);
  const brokers = parseBrokers(process.env.KAFKA_BROKERS, 'KAFKA_BROKERS');
  const base = process.env.CLICKHOUSE_URL;
  if (!base) throw new Error('CLICKHOUSE_URL is not set: run eval "$(deploy/local/stack up)"');
  const run = `bench_alerts_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const chUrl = new URL(base);
  chUrl.pathname = `/${run}`;
  const env = { KAFKA_BROKERS: brokers.join(','), CLICKHOUSE_URL: chUrl.toString(), LEAKSCOPE_TOPIC_PREFIX: `${run}.`, LEAKSCOPE_HASH_KEY: HASH_KEY, LEAKSCOPE_ENC_KEY: ENC_KEY, LEAKSCOPE_LOG_LEVEL: 'silent' };
  const keys = { hashKey: Buffer.from(HASH_KEY, 'hex'), encKey: Buffer.from(ENC_KEY, 'hex') };
  const log = silentLogger();
  const topics = topicNames(`${run}.`);
  const kafka = createKafkaClient({ brokers, clientId: 'leakscope-bench-alerts', logger: log });
  const codec = new AvroCodec();
  const hook = await receiver();
  // Group interval 0: every alert is timed on its own. With the default (10 s) only the first
  // alert of a quiet route goes out at once, and later ones are grouped on purpose.
  const routes = [{ name: 'bench', url: hook.url, format: 'leakscope', secret_env: 'BENCH_SECRET', group_interval_ms: 0 }];
  const config = notifyConfig({ routes }, { BENCH_SECRET: 'bench-secret-of-at-least-16-bytes' });
  const dir = mkdtempSync(join(tmpdir(), 'lk-bench-alerts-'));
  try {
    // 1. Streaming.
    await migrateClickHouse(chUrl.toString());
    await cli(['registry', 'publish', REGISTRY], env);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics);
    await admin.disconnect();
    const store = await openClickHouseStore(chUrl.toString());
    const batches: BatchTimes[] = [];
    const raisedBy = new Map<string, BatchTimes>();
    const notifyRead = new Map<string, number>();
    const detector = new Detector({
      brokers, topics, store, keys, logger: log, metrics: createMetrics({ processMetrics: false }), settings: { groupId: `${run}-det` },
      onBatchTimes: (t) => {
        batches.push(t);
        for (const a of t.alerts) raisedBy.set(a.id, t);
      },
    });
    await detector.start();
    const notifier = new Notifier({
      brokers, topics, config, logger: log, groupId: `${run}-notify`,
      onAlertsRead: (ids, at) => { for (const id of ids) if (!notifyRead.has(id)) notifyRead.set(id, at); },
    });
    await notifier.start();
    const bgProducer = new StreamProducer(kafka, codec);
    const leakProducer = new StreamProducer(kafka, codec, { compress: false });
    await bgProducer.connect();
    await leakProducer.connect();
    await sleep(3000); // groups joined
    let produced = 0;
    let injected = 0;

    const streamStep = async (rate: number, alerts = count): Promise<StreamStep> => {
      // A step starts with the detector caught up: a backlog left by a faster step is not this rate's.
      const drained = performance.now() + 120_000;
      while (detector.totals.records < produced + injected && performance.now() < drained) await sleep(100);
      const t0 = performance.now();
      const bg = paced(rate, async (due, now) => {
        await bgProducer.send([{ topic: topics.requests, messages: bgProducer.requestMessages(Array.from({ length: due }, () => background(now))) }]);
      });
      await sleep(2000); // warm up under load
      const firstBatch = batches.length;
      const sentWall = new Map<string, number>();
      const sent = new Map<string, number>();
      for (let i = 0; i < alerts; i++) {
        const site = `alert${injected++}-${run.slice(-6)}.example`;
        const message = leakProducer.requestMessages([violating(site, Date.now())]);
        sent.set(site, performance.now());
        sentWall.set(site, Date.now());
        await leakProducer.send([{ topic: topics.requests, messages: message }]);
        await sleep(40);
      }
      const deadline = performance.now() + 30_000;
      while ([...sent.keys()].some((s) => !hook.arrivals.has(s)) && performance.now() < deadline) await sleep(50);
      const sentInStep = await bg.stop();
      const elapsed = (performance.now() - t0) / 1000;
      produced += sentInStep;
      const caughtUp = performance.now() + 15_000;
      while (detector.totals.records < produced + injected && performance.now() < caughtUp) await sleep(50);
      const arrived = [...sent.keys()].filter((s) => hook.arrivals.has(s));
      const hop = (from: (site: string, id: string) => number | undefined, to: (site: string, id: string) => number | undefined): LatencyFigures =>
        figures(arrived.flatMap((s) => {
          const id = alertId('first_disclosure', s);
          const a = from(s, id);
          const b = to(s, id);
          return a === undefined || b === undefined ? [] : [b - a];
        }));
      const stepBatches = batches.slice(firstBatch);
      if (process.env.BENCH_ALERTS_DUMP) {
        // One line per alert, in injection order: where the time went, to tell a steady cost from a stall.
        const rows = [...sent.keys()].map((s, i) => {
          const b = raisedBy.get(alertId('first_disclosure', s));
          const w = sentWall.get(s)!;
          return [rate, i, w, b ? b.fetchedAt - w : '', b ? b.judgedAt - b.fetchedAt : '', b ? b.raisedAt - b.judgedAt : '', b ? (notifyRead.get(alertId('first_disclosure', s)) ?? 0) - b.raisedAt : '', hook.arrivals.has(s) ? Math.round(hook.arrivals.get(s)! - sent.get(s)!) : ''].join('\t');
        });
        appendFileSync(process.env.BENCH_ALERTS_DUMP, `${rows.join('\n')}\n`);
      }
      return {
        target: rate,
        perSec: sentInStep / elapsed,
        keptUp: arrived.length === alerts && detector.totals.records === produced + injected,
        total: figures(arrived.map((s) => hook.arrivals.get(s)! - sent.get(s)!)),
        hops: {
          fetch: hop((s) => sentWall.get(s), (_, id) => raisedBy.get(id)?.fetchedAt),
          judge: hop((_, id) => raisedBy.get(id)?.fetchedAt, (_, id) => raisedBy.get(id)?.judgedAt),
          raise: hop((_, id) => raisedBy.get(id)?.judgedAt, (_, id) => raisedBy.get(id)?.raisedAt),
          toNotify: hop((_, id) => raisedBy.get(id)?.raisedAt, (_, id) => notifyRead.get(id)),
          deliver: hop((_, id) => notifyRead.get(id), (s) => hook.arrivedWall.get(s)),
        },
        batchStoreMs: figures(stepBatches.map((b) => b.storedAt - b.raisedAt)),
        batchCommitMs: figures(stepBatches.map((b) => b.committedAt - b.storedAt)),
      };
    };
    // Unmeasured: the first seconds of a fresh detector and notifier (JIT, first inserts, group
    // settling) are not a steady rate; on a loaded machine they stalled the first alerts by seconds.
    await streamStep(ladder[0] ?? 1000, 40);
    const stream = await search(ladder, (rate) => streamStep(rate));
    await notifier.stop();
    await detector.stop();
    await bgProducer.disconnect();
    await leakProducer.disconnect();
    await store.close();

    // 2. watch: lines appended to a file, to the same receiver.
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const file = join(logs, 'access.log');
    const duck = await openDuckDbStore(join(dir, 'watch.duckdb'));
    const controller = new AbortController();
    const telemetry = createWatchTelemetry({ processMetrics: false });
    const watching = runWatch({
      dirs: [logs], registry: await readRegistryFile(REGISTRY), keys, store: duck, dbPath: join(dir, 'watch.duckdb'), format: 'ndjson',
      notify: config, logger: log, signal: controller.signal, pollIntervalMs: 50, telemetry,
    });
    appendFileSync(file, `${ndjson(background(Date.now()))}\n`);
    let lines = 1;
    await sleep(1000);
    const watchStep = async (rate: number): Promise<WatchStep> => {
      const w0 = performance.now();
      const wbg = paced(rate, (due, now) => {
        appendFileSync(file, Array.from({ length: due }, () => `${ndjson(background(now))}\n`).join(''));
      });
      await sleep(1000);
      const appended = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const site = `watch${injected++}-${run.slice(-6)}.example`;
        appended.set(site, performance.now());
        appendFileSync(file, `${ndjson(violating(site, Date.now()))}\n`);
        await sleep(40);
      }
      const wdeadline = performance.now() + 30_000;
      while ([...appended.keys()].some((s) => !hook.arrivals.has(s)) && performance.now() < wdeadline) await sleep(50);
      const inStep = await wbg.stop();
      const welapsed = (performance.now() - w0) / 1000;
      lines += inStep + count;
      const caughtUp = performance.now() + 15_000;
      while (telemetry.totals.requests < lines && performance.now() < caughtUp) await sleep(50);
      const arrived = [...appended].filter(([s]) => hook.arrivals.has(s));
      return {
        target: rate, perSec: inStep / welapsed, keptUp: arrived.length === count && telemetry.totals.requests === lines,
        total: figures(arrived.map(([s, t]) => hook.arrivals.get(s)! - t)),
      };
    };
    const watch = await search(watchLadder, watchStep);
    controller.abort();
    await watching;
    await duck.close();
    return { stream: stream.steps, bestStream: stream.best, watch: watch.steps, bestWatch: watch.best, loadAverage: loadavg() };
  } finally {
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Background traffic at `rate` per second: every 20 ms, `emit` is given the number of requests due
 * to keep the rate and the wall-clock time to stamp them with. `stop()` ends it and gives how many
 * were emitted.
 */
function paced(rate: number, emit: (due: number, now: number) => Promise<void> | void): { stop(): Promise<number> } {
  let emitted = 0;
  let stopped = false;
  const t0 = performance.now();
  const loop = (async () => {
    while (!stopped) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate) - emitted;
      if (due > 0) {
        await emit(due, Date.now());
        emitted += due;
      }
      await sleep(20);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return emitted;
    },
  };
}
