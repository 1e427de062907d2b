// `npm run bench -- alerts`: how long an alert takes to reach a webhook, with every part in a
// process of its own as deployed. (1) Streaming: `leakscope detect` (on ClickHouse) consumes a
// steady background of gateway traffic from a traffic process while violating requests for new
// sites are injected from here; each is timed from its produce call to its arrival at a
// webhook receiver run here, through leak-alerts and `leakscope notify`, and split by hop from
// the services' own log events. (2) `leakscope watch`: the same from a line's append to a log
// file. Needs KAFKA_BROKERS and CLICKHOUSE_URL (eval "$(deploy/local/stack up)").
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { AvroCodec, type AvroLeakAlert } from '../services/avro/index.js';
import { main as cliMain } from '../services/cli/main.js';
import { alertId } from '../services/detector/index.js';
import { StreamProducer, createKafkaClient, ensureTopics, parseBrokers, topicNames } from '../services/kafka/index.js';
import { silentLogger } from '../services/observability/index.js';
import { migrateClickHouse } from '../services/store/clickhouse/index.js';
import { startService, type LogEvent, type ServiceProcess } from './alerts-services.js';
import { ndjsonLine, startTraffic, violatingRequest } from './alerts-traffic.js';

const HASH_KEY = '44'.repeat(32);
const ENC_KEY = '55'.repeat(32);
const REGISTRY = [1, 2].map((up) => fileURLToPath(new URL(`${'../'.repeat(up)}test/fixtures/incident/registry.yaml`, import.meta.url))).find((p) => existsSync(p))!;
const SECRET = 'bench-secret-of-at-least-16-bytes';

export interface LatencyFigures { samples: number; p50Ms: number; p99Ms: number; maxMs: number }

/** CPU of each process per background request of a step, µs. */
export type CpuPerRequest = Record<string, number>;

/** One background rate held while `alerts` violating requests for new sites were injected. */
export interface StreamStep {
  target: number;
  perSec: number;
  /** Every injected alert reached the webhook and the detector had committed every request after the step. */
  keptUp: boolean;
  total: LatencyFigures;
  /** The hops of each alert, by wall clock: produce call → detector fetched its batch → judged → alert acknowledged in leak-alerts → notify read it → webhook. */
  hops: { fetch: LatencyFigures; judge: LatencyFigures; raise: LatencyFigures; toNotify: LatencyFigures; deliver: LatencyFigures };
  /** Per batch of the step: the store write and the commit, which the alerts do not wait for. */
  batchStoreMs: LatencyFigures;
  batchCommitMs: LatencyFigures;
  cpuUsPerRequest: CpuPerRequest;
  loadAverage: { start: number; end: number };
}

export interface WatchStep { target: number; perSec: number; keptUp: boolean; total: LatencyFigures; cpuUsPerRequest: CpuPerRequest; loadAverage: { start: number; end: number } }

export interface AlertsBenchResult {
  stream: StreamStep[];
  /** The highest background rate whose step kept up with p99 < 1 s (null: none did). */
  bestStream: StreamStep | null;
  watch: WatchStep[];
  bestWatch: WatchStep | null;
  loadAverage: number[];
}

export const GOAL_P99_MS = 1000;

function figures(latencies: number[]): LatencyFigures {
  const s = [...latencies].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
  return { samples: s.length, p50Ms: at(50), p99Ms: at(99), maxMs: s[s.length - 1] ?? NaN };
}

/** A webhook receiver: the wall-clock arrival time of every first_disclosure, by site. */
async function receiver(): Promise<{ url: string; arrivals: Map<string, number>; close: () => Promise<void> }> {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      for (const a of (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: AvroLeakAlert[] }).alerts) {
        if (a.kind === 'first_disclosure' && a.site !== null && !arrivals.has(a.site)) arrivals.set(a.site, at);
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function cli(argv: string[], env: Record<string, string>): Promise<void> {
  const out = new PassThrough();
  out.resume();
  const stdin = new PassThrough();
  stdin.end();
  const code = await cliMain(argv, { stdout: out, stderr: out, stdin, env: { ...env, LEAKSCOPE_LOG_LEVEL: 'silent' }, cwd: process.cwd() });
  if (code !== 0) throw new Error(`leakscope ${argv.join(' ')}: exit ${code}`);
}

/** Polls `probe` every 100 ms until it holds or `ms` pass; whether it held. */
async function until(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > end) return false;
    await sleep(100);
  }
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

function ladderFrom(name: string, env: string | undefined, fallback: number[]): number[] {
  if (!env) return fallback;
  if (env === 'none') return [];
  const rates = env.split(',').map(Number);
  if (rates.some((r) => !Number.isInteger(r) || r < 0)) throw new Error(`${name}: ${env}: expected rates per second, e.g. 500,1000,2000`);
  return rates;
}

/** CPU of each process between two readings, per request. */
function cpuPer(before: Record<string, number>, after: Record<string, number>, requests: number): CpuPerRequest {
  return Object.fromEntries(Object.keys(after).map((k) => [k, requests > 0 ? (after[k]! - before[k]!) / requests : NaN]));
}

function cpuOf(services: readonly ServiceProcess[]): Record<string, number> {
  return Object.fromEntries(services.map((s) => [s.name, s.cpuUs()]));
}

export async function benchAlerts(options: { rates?: number[]; watchRates?: number[]; alerts?: number } = {}): Promise<AlertsBenchResult> {
  const ladder = options.rates ?? ladderFrom('BENCH_ALERTS_RATES', process.env.BENCH_ALERTS_RATES, [250, 500, 1000, 2000, 4000, 8000, 16000]);
  const watchLadder = options.watchRates ?? ladderFrom('BENCH_ALERTS_WATCH_RATES', process.env.BENCH_ALERTS_WATCH_RATES, [500, 1000, 2000, 4000, 8000, 16000]);
  const count = options.alerts ?? Number(process.env.BENCH_ALERTS_COUNT ?? 220);
  const brokers = parseBrokers(process.env.KAFKA_BROKERS, 'KAFKA_BROKERS');
  const base = process.env.CLICKHOUSE_URL;
  if (!base) throw new Error('CLICKHOUSE_URL is not set: run eval "$(deploy/local/stack up)"');
  const run = `bench_alerts_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const chUrl = new URL(base);
  chUrl.pathname = `/${run}`;
  const env = { KAFKA_BROKERS: brokers.join(','), CLICKHOUSE_URL: chUrl.toString(), LEAKSCOPE_TOPIC_PREFIX: `${run}.`, LEAKSCOPE_HASH_KEY: HASH_KEY, LEAKSCOPE_ENC_KEY: ENC_KEY, LEAKSCOPE_LOG_LEVEL: 'info', BENCH_SECRET: SECRET };
  const topics = topicNames(`${run}.`);
  const kafka = createKafkaClient({ brokers, clientId: 'leakscope-bench-alerts', logger: silentLogger() });
  const hook = await receiver();
  const dir = mkdtempSync(join(tmpdir(), 'lk-bench-alerts-'));
  // Group interval 0: every alert is timed on its own. With the default (10 s) only the first
  // alert of a quiet route goes out at once, and later ones are grouped on purpose.
  const notifyFile = join(dir, 'notify.yaml');
  writeFileSync(notifyFile, `routes:\n  - name: bench\n    url: ${hook.url}\n    format: leakscope\n    secret_env: BENCH_SECRET\n    group_interval_ms: 0\n`);
  const services: ServiceProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  let seq = 0;
  try {
    // 1. Streaming: leakscope detect and leakscope notify, the background from its own process.
    await migrateClickHouse(chUrl.toString());
    await cli(['registry', 'publish', REGISTRY], env);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics);
    await admin.disconnect();
    const raised = new Map<string, { fetchedAt: number; judgedAt: number; raisedAt: number }>();
    const notifyRead = new Map<string, number>();
    const batchesWritten: Array<{ at: number; storeMs: number; commitMs: number }> = [];
    // BENCH_ALERTS_DETECT_ARGS: more flags for leakscope detect (e.g. its fetch settings), to compare.
    const detectArgs = (process.env.BENCH_ALERTS_DETECT_ARGS ?? '').split(' ').filter((a) => a !== '');
    const detector = await startService('detect', ['detect', '--group', `${run}-det`, ...detectArgs], env, (e: LogEvent) => {
      if (e.msg === 'alert raised' && typeof e.alert_id === 'string') raised.set(e.alert_id, { fetchedAt: e.fetched_at as number, judgedAt: e.judged_at as number, raisedAt: e.raised_at as number });
      else if (e.msg === 'batch written') batchesWritten.push({ at: Date.parse(e.time), storeMs: e.store_ms as number, commitMs: e.commit_ms as number });
    });
    services.push(detector);
    const notifier = await startService('notify', ['notify', '--config', notifyFile, '--group', `${run}-notify`], { ...env, LEAKSCOPE_LOG_LEVEL: 'debug' }, (e: LogEvent) => {
      if (e.msg === 'alerts read' && Array.isArray(e.alert_ids)) for (const id of e.alert_ids as string[]) if (!notifyRead.has(id)) notifyRead.set(id, e.read_at as number);
    });
    services.push(notifier);
    const traffic = await startTraffic({ brokers, topic: topics.requests });
    closers.push(() => traffic.close());
    const leakProducer = new StreamProducer(kafka, new AvroCodec(), { compress: false });
    await leakProducer.connect();
    closers.push(() => leakProducer.disconnect());
    await sleep(3000); // groups joined
    let sent = 0;
    const committed = async (): Promise<number> => (await detector.sample('leakscope_records_in_total', 'source="kafka"')) ?? 0;

    const streamStep = async (rate: number, alerts = count): Promise<StreamStep> => {
      // A step starts with the detector caught up: a backlog left by a faster step is not this rate's.
      await until(async () => (await committed()) >= sent, 120_000);
      const load0 = loadavg()[0]!;
      const cpu0 = cpuOf(services);
      const t0 = performance.now();
      const stepStart = Date.now();
      await traffic.start(rate);
      await sleep(2000); // warm up under load
      const produced = new Map<string, number>();
      for (let i = 0; i < alerts; i++) {
        const site = `alert${seq}-${run.slice(-6)}.example`;
        const message = leakProducer.requestMessages([violatingRequest(site, seq++, Date.now())]);
        produced.set(site, Date.now());
        await leakProducer.send([{ topic: topics.requests, messages: message }]);
        await sleep(40);
      }
      await until(async () => [...produced.keys()].every((s) => hook.arrivals.has(s)), 30_000);
      const bg = await traffic.stop();
      const elapsed = (performance.now() - t0) / 1000;
      sent += bg.emitted + alerts;
      const keptUp = await until(async () => (await committed()) >= sent, 15_000);
      const cpu = { ...cpuPer(cpu0, cpuOf(services), bg.emitted + alerts), traffic: bg.cpuUs / (bg.emitted || 1) };
      const arrived = [...produced.keys()].filter((s) => hook.arrivals.has(s));
      const hop = (from: (site: string, id: string) => number | undefined, to: (site: string, id: string) => number | undefined): LatencyFigures =>
        figures(arrived.flatMap((s) => {
          const id = alertId('first_disclosure', s);
          const a = from(s, id);
          const b = to(s, id);
          return a === undefined || b === undefined ? [] : [b - a];
        }));
      if (process.env.BENCH_ALERTS_DUMP) {
        // One line per alert, in injection order: where the time went, to tell a steady cost from a stall.
        const rows = [...produced.keys()].map((s, i) => {
          const id = alertId('first_disclosure', s);
          const r = raised.get(id);
          const w = produced.get(s)!;
          const n = notifyRead.get(id);
          const a = hook.arrivals.get(s);
          return [rate, i, w, r ? r.fetchedAt - w : '', r ? r.judgedAt - r.fetchedAt : '', r ? r.raisedAt - r.judgedAt : '', r && n ? n - r.raisedAt : '', n && a ? a - n : '', a ? a - w : ''].join('\t');
        });
        appendFileSync(process.env.BENCH_ALERTS_DUMP, `${rows.join('\n')}\n`);
      }
      const stepBatches = batchesWritten.filter((b) => b.at >= stepStart);
      return {
        target: rate,
        perSec: bg.emitted / elapsed,
        keptUp: keptUp && arrived.length === alerts,
        total: figures(arrived.map((s) => hook.arrivals.get(s)! - produced.get(s)!)),
        hops: {
          fetch: hop((s) => produced.get(s), (_, id) => raised.get(id)?.fetchedAt),
          judge: hop((_, id) => raised.get(id)?.fetchedAt, (_, id) => raised.get(id)?.judgedAt),
          raise: hop((_, id) => raised.get(id)?.judgedAt, (_, id) => raised.get(id)?.raisedAt),
          toNotify: hop((_, id) => raised.get(id)?.raisedAt, (_, id) => notifyRead.get(id)),
          deliver: hop((_, id) => notifyRead.get(id), (s) => hook.arrivals.get(s)),
        },
        batchStoreMs: figures(stepBatches.map((b) => b.storeMs)),
        batchCommitMs: figures(stepBatches.map((b) => b.commitMs)),
        cpuUsPerRequest: cpu,
        loadAverage: { start: load0, end: loadavg()[0]! },
      };
    };
    // Unmeasured: the first seconds of a fresh detector and notifier (JIT, first inserts, group
    // settling) are not a steady rate; on a loaded machine they stalled the first alerts by seconds.
    await streamStep(ladder[0] ?? 1000, 40);
    const stream = await search(ladder, (rate) => streamStep(rate));
    for (const s of services.splice(0)) await s.stop();
    for (const c of closers.splice(0)) await c();

    // 2. leakscope watch: lines appended to a log file (background from the traffic process), to the same receiver.
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const file = join(logs, 'access.log');
    appendFileSync(file, ndjsonLine(violatingRequest(`warmup-${run.slice(-6)}.example`, seq++, Date.now())));
    const watch = await startService('watch', ['watch', logs, '--registry', REGISTRY, '--db', join(dir, 'watch.duckdb'), '--notify', notifyFile, '--format', 'ndjson', '--poll-ms', '50'], env, () => undefined);
    services.push(watch);
    const watchTraffic = await startTraffic({ file });
    closers.push(() => watchTraffic.close());
    let lines = 1;
    const watched = async (): Promise<number> => (await watch.sample('leakscope_records_in_total', 'source="files"')) ?? 0;
    await until(async () => (await watched()) >= lines, 30_000);
    const watchStep = async (rate: number): Promise<WatchStep> => {
      await until(async () => (await watched()) >= lines, 120_000);
      const load0 = loadavg()[0]!;
      const cpu0 = cpuOf(services);
      const w0 = performance.now();
      await watchTraffic.start(rate);
      await sleep(1000);
      const appended = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const site = `watch${seq}-${run.slice(-6)}.example`;
        const line = ndjsonLine(violatingRequest(site, seq++, Date.now()));
        appended.set(site, Date.now());
        appendFileSync(file, line);
        await sleep(40);
      }
      await until(async () => [...appended.keys()].every((s) => hook.arrivals.has(s)), 30_000);
      const bg = await watchTraffic.stop();
      const welapsed = (performance.now() - w0) / 1000;
      lines += bg.emitted + count;
      const keptUp = await until(async () => (await watched()) >= lines, 15_000);
      const arrived = [...appended].filter(([s]) => hook.arrivals.has(s));
      return {
        target: rate, perSec: bg.emitted / welapsed, keptUp: keptUp && arrived.length === count,
        total: figures(arrived.map(([s, t]) => hook.arrivals.get(s)! - t)),
        cpuUsPerRequest: { ...cpuPer(cpu0, cpuOf(services), bg.emitted + count), traffic: bg.cpuUs / (bg.emitted || 1) },
        loadAverage: { start: load0, end: loadavg()[0]! },
      };
    };
    const watchRun = await search(watchLadder, watchStep);
    return { stream: stream.steps, bestStream: stream.best, watch: watchRun.steps, bestWatch: watchRun.best, loadAverage: loadavg() };
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
    for (const c of closers) await c().catch(() => undefined);
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
