// The gateway traffic of `npm run bench -- alerts`: the requests it is made of (background that
// raises no alert, and violating requests for new sites), and the process that holds a steady
// background rate — into gateway-requests or appended to a log file — apart from the detector,
// notify and watch it loads, so that producing it costs none of their CPU or event loop.
// Driven by its parent over IPC: `{start: {rate}}` → `{started}`, `{stop}` → `{emitted, cpuUs}`.
import { appendFileSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AvroCodec } from '../services/avro/index.js';
import type { GatewayRequest } from '../services/core/types.js';
import { StreamProducer, createKafkaClient } from '../services/kafka/index.js';
import { silentLogger } from '../services/observability/index.js';

/** Background request `i`: an authorised partner request (1 in 10) or one that discloses nothing. */
export function backgroundRequest(i: number, ts: number): GatewayRequest {
  const msisdn = `4477009${String(i % 100_000).padStart(5, '0')}`;
  const partner = i % 10 === 0;
  const host = partner ? 'www.ageverify.example' : `www.news${i % 50}.co.uk`;
  const headers: Array<readonly [string, string]> = [['host', host], ['user-agent', 'Mozilla/5.0 (Linux; Android 2.3.6)']];
  if (partner) headers.push(['x-up-calling-line-id', msisdn]);
  return { ts, requestKey: `bg:${i}`, gatewayId: 'gw-bench', requestId: String(i), msisdn, bearer: '3g', clientIp: '10.0.0.1', method: 'GET', scheme: 'http', host, port: 80, path: '/', query: `id=${i}`, headers, status: 200, bytes: 512 };
}

/** A request that gives a subscriber's number to `site`, which never had one: one first_disclosure. */
export function violatingRequest(site: string, i: number, ts: number): GatewayRequest {
  const msisdn = `4477009${String(i % 100_000).padStart(5, '0')}`;
  const host = `www.${site}`;
  return { ts, requestKey: `leak:${site}`, gatewayId: 'gw-bench', requestId: site, msisdn, bearer: '3g', clientIp: '10.0.0.1', method: 'GET', scheme: 'http', host, port: 80, path: '/', query: '', headers: [['host', host], ['x-up-calling-line-id', msisdn]], status: 200, bytes: 512 };
}

/** The request as a gateway's NDJSON log line (what watch reads). */
export function ndjsonLine(r: GatewayRequest): string {
  return `${JSON.stringify({ ts: new Date(r.ts).toISOString(), gateway_id: r.gatewayId, request_id: r.requestId, msisdn: r.msisdn, method: 'GET', url: `http://${r.host}/?${r.query}`, headers: Object.fromEntries(r.headers), status: 200, bytes: 512 })}\n`;
}

export interface TrafficConfig {
  /** Into Kafka (`brokers`, `topic`) or appended to `file`. */
  brokers?: string[];
  topic?: string;
  file?: string;
}

/** The traffic process, forked; its first background request is numbered `firstIndex`. */
export interface Traffic {
  start(rate: number): Promise<void>;
  /** Ends the current rate; how many requests it emitted and the CPU the process spent meanwhile. */
  stop(): Promise<{ emitted: number; cpuUs: number }>;
  close(): Promise<void>;
}

export async function startTraffic(config: TrafficConfig): Promise<Traffic> {
  const child = fork(fileURLToPath(import.meta.url), ['--traffic', JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies: Array<(m: Reply) => void> = [];
  child.on('message', (m: Reply) => replies.shift()?.(m));
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`the bench's traffic process exited ${String(code)}`); });
  exited.catch(() => undefined);
  const ask = (message: object | null): Promise<Reply> => {
    const reply = new Promise<Reply>((resolve) => replies.push(resolve));
    if (message !== null) child.send(message);
    return Promise.race([reply, exited]);
  };
  await ask(null); // ready: connected
  return {
    async start(rate) { await ask({ start: { rate } }); },
    async stop() {
      const r = await ask({ stop: true });
      return { emitted: r.emitted ?? 0, cpuUs: r.cpuUs ?? 0 };
    },
    async close() { await closeChild(child); },
  };
}

interface Reply { ready?: true; started?: true; emitted?: number; cpuUs?: number }

async function closeChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** The forked side: paces requests every 20 ms to keep the rate asked for. */
async function serveTraffic(config: TrafficConfig): Promise<void> {
  let emit: (requests: GatewayRequest[]) => Promise<void>;
  if (config.file !== undefined) {
    const file = config.file;
    emit = async (requests) => appendFileSync(file, requests.map(ndjsonLine).join(''));
  } else {
    const producer = new StreamProducer(createKafkaClient({ brokers: config.brokers!, clientId: 'leakscope-bench-traffic', logger: silentLogger() }), new AvroCodec());
    await producer.connect();
    emit = (requests) => producer.send([{ topic: config.topic!, messages: producer.requestMessages(requests) }]);
  }
  let next = 0;
  let running: { stop: () => Promise<number> } | null = null;
  let cpu0 = process.cpuUsage();
  process.on('message', (m: { start?: { rate: number }; stop?: true }) => {
    void (async () => {
      if (m.start) {
        cpu0 = process.cpuUsage();
        running = paced(m.start.rate, async (due, now) => emit(Array.from({ length: due }, () => backgroundRequest(next++, now))));
        process.send!({ started: true });
      } else if (m.stop) {
        const emitted = running === null ? 0 : await running.stop();
        running = null;
        const cpu = process.cpuUsage(cpu0);
        process.send!({ emitted, cpuUs: cpu.user + cpu.system });
      }
    })();
  });
  process.once('SIGTERM', () => process.exit(0));
  process.send!({ ready: true });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Background traffic at `rate` per second: every 20 ms, `emit` is given the number of requests due
 * to keep the rate and the wall-clock time to stamp them with. `stop()` ends it and gives how many
 * were emitted.
 */
function paced(rate: number, emit: (due: number, now: number) => Promise<void>): { stop(): Promise<number> } {
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

if (process.argv[2] === '--traffic') void serveTraffic(JSON.parse(process.argv[3]!) as TrafficConfig);
