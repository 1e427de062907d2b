// `npm run bench -- alerts`: how long an alert takes to reach a webhook. (1) Streaming: the
// detector consumes a steady background of gateway traffic while violating requests for new
// sites are injected; each is timed from its produce call to its arrival at a webhook
// receiver run here, through detect → leak-alerts → notify. (2) watch: the same from a line's
// append to a log file. Needs KAFKA_BROKERS and CLICKHOUSE_URL (eval "$(deploy/local/stack up)").
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AvroCodec, type AvroLeakAlert } from '../services/avro/index.js';
import type { GatewayRequest } from '../services/core/types.js';
import { Detector } from '../services/detector/index.js';
import { readRegistryFile } from '../services/files/index.js';
import { StreamProducer, createKafkaClient, ensureTopics, parseBrokers, topicNames } from '../services/kafka/index.js';
import { Notifier, notifyConfig } from '../services/notify/index.js';
import { createMetrics, silentLogger } from '../services/observability/index.js';
import { migrateClickHouse, openClickHouseStore } from '../services/store/clickhouse/index.js';
import { openDuckDbStore } from '../services/store/duckdb/index.js';
import { runWatch } from '../services/watch/index.js';
import { main as cliMain } from '../services/cli/main.js';
import { PassThrough } from 'node:stream';

const HASH_KEY = '44'.repeat(32);
const ENC_KEY = '55'.repeat(32);
const REGISTRY = [1, 2].map((up) => fileURLToPath(new URL(`${'../'.repeat(up)}test/fixtures/incident/registry.yaml`, import.meta.url))).find((p) => existsSync(p))!;

export interface LatencyFigures { samples: number; p50Ms: number; p99Ms: number; maxMs: number }
export interface AlertsBenchResult {
  backgroundTarget: number;
  backgroundProduced: number;
  backgroundPerSec: number;
  detectorKeptUp: boolean;
  detectorLagAtEnd: number;
  stream: LatencyFigures;
  /** The streaming path split at the detector's alert (detected_at, wall clock): produce → detector raises it, and → webhook. */
  streamToDetector: LatencyFigures;
  streamDetectorToWebhook: LatencyFigures;
  watchLinesPerSec: number;
  watch: LatencyFigures;
}

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

export async function benchAlerts(options: { rate?: number; alerts?: number; watchRate?: number } = {}): Promise<AlertsBenchResult> {
  const rate = options.rate ?? Number(process.env.BENCH_ALERTS_RATE ?? 5000);
  const watchRate = options.watchRate ?? Number(process.env.BENCH_ALERTS_WATCH_RATE ?? 2000);
  const count = options.alerts ?? 220;
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
    const detector = new Detector({ brokers, topics, store, keys, logger: log, metrics: createMetrics({ processMetrics: false }), settings: { groupId: `${run}-det` } });
    await detector.start();
    const notifier = new Notifier({ brokers, topics, config, logger: log, groupId: `${run}-notify` });
    await notifier.start();
    const bgProducer = new StreamProducer(kafka, codec);
    const leakProducer = new StreamProducer(kafka, codec, { compress: false });
    await bgProducer.connect();
    await leakProducer.connect();
    await sleep(3000); // groups joined

    let produced = 0;
    let stop = false;
    const t0 = performance.now();
    const bg = (async () => {
      // Every 20 ms, the messages that keep the target rate.
      while (!stop) {
        const due = Math.floor(((performance.now() - t0) / 1000) * rate) - produced;
        if (due > 0) {
          const now = Date.now();
          await bgProducer.send([{ topic: topics.requests, messages: bgProducer.requestMessages(Array.from({ length: due }, () => background(now))) }]);
          produced += due;
        }
        await sleep(20);
      }
    })();
    await sleep(2000); // warm up under load
    const sent = new Map<string, number>();
    const sentWall = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const site = `alert${i}-${run.slice(-6)}.example`;
      const message = leakProducer.requestMessages([violating(site, Date.now())]);
      sent.set(site, performance.now());
      sentWall.set(site, Date.now());
      await leakProducer.send([{ topic: topics.requests, messages: message }]);
      await sleep(40);
    }
    const deadline = performance.now() + 30_000;
    while (hook.arrivals.size < count && performance.now() < deadline) await sleep(50);
    stop = true;
    await bg;
    const elapsed = (performance.now() - t0) / 1000;
    const caughtUp = performance.now() + 10_000;
    while (detector.totals.records < produced + count && performance.now() < caughtUp) await sleep(50);
    const lag = produced + count - detector.totals.records;
    const streamLat = [...sent].filter(([s]) => hook.arrivals.has(s)).map(([s, t]) => hook.arrivals.get(s)! - t);
    const toDetector = [...sentWall].filter(([s]) => hook.detected.has(s)).map(([s, t]) => hook.detected.get(s)! - t);
    const detectorToWebhook = [...sentWall].filter(([s]) => hook.detected.has(s)).map(([s]) => hook.arrivedWall.get(s)! - hook.detected.get(s)!);
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
    const watching = runWatch({
      dirs: [logs], registry: await readRegistryFile(REGISTRY), keys, store: duck, dbPath: join(dir, 'watch.duckdb'), format: 'ndjson',
      notify: config, logger: log, signal: controller.signal, pollIntervalMs: 50,
    });
    appendFileSync(file, `${ndjson(background(Date.now()))}\n`);
    await sleep(1000);
    let lines = 0;
    let wstop = false;
    const w0 = performance.now();
    const wbg = (async () => {
      while (!wstop) {
        const due = Math.floor(((performance.now() - w0) / 1000) * watchRate) - lines;
        if (due > 0) {
          const now = Date.now();
          appendFileSync(file, Array.from({ length: due }, () => `${ndjson(background(now))}\n`).join(''));
          lines += due;
        }
        await sleep(20);
      }
    })();
    await sleep(1000);
    const appended = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const site = `watch${i}-${run.slice(-6)}.example`;
      appended.set(site, performance.now());
      appendFileSync(file, `${ndjson(violating(site, Date.now()))}\n`);
      await sleep(40);
    }
    const wdeadline = performance.now() + 30_000;
    while ([...appended.keys()].some((s) => !hook.arrivals.has(s)) && performance.now() < wdeadline) await sleep(50);
    wstop = true;
    await wbg;
    const welapsed = (performance.now() - w0) / 1000;
    controller.abort();
    await watching;
    await duck.close();
    const watchLat = [...appended].filter(([s]) => hook.arrivals.has(s)).map(([s, t]) => hook.arrivals.get(s)! - t);
    return {
      backgroundTarget: rate,
      backgroundProduced: produced,
      backgroundPerSec: produced / elapsed,
      detectorKeptUp: lag === 0,
      detectorLagAtEnd: lag,
      stream: figures(streamLat),
      streamToDetector: figures(toDetector),
      streamDetectorToWebhook: figures(detectorToWebhook),
      watchLinesPerSec: lines / welapsed,
      watch: figures(watchLat),
    };
  } finally {
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
