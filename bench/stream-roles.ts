// The timed sides of `npm run bench -- stream`, each in a process of its own (as in production,
// and so that its CPU and, with LEAKSCOPE_BENCH_PROFILE=DIR, its CPU profile are its own):
// `ship` and the bare kafkajs producer sending the same already-encoded messages, the detector
// alone and the bare kafkajs consumer that only decodes. A role connects, says `ready`, does
// its timed work and answers with wall seconds, CPU microseconds and the records it handled.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import type { Message } from 'kafkajs';
import { AvroCodec, fromAvroGatewayRequest } from '../services/avro/index.js';
import { Detector, detectorSettings } from '../services/detector/index.js';
import { readLogs } from '../services/files/index.js';
import {
  ACKS_ALL, MAX_MESSAGES_PER_REQUEST, StreamProducer, chunkTopicMessages, createKafkaClient, kafkajsProducerConfig, type TopicNames,
} from '../services/kafka/index.js';
import { createMetrics, silentLogger } from '../services/observability/index.js';
import { ReadThread, SHIP_BATCH_LINES, SHIP_MAX_IN_FLIGHT, shipInputs } from '../services/shipper/index.js';
import { openClickHouseStore } from '../services/store/clickhouse/index.js';
import { measureShipStages, measureStages, type StageCpu } from './stream-stages.js';

const { CompressionTypes } = kafkajs;

export type RoleName = 'ship' | 'bare-producer' | 'detect' | 'bare-consumer' | 'stages';

export interface RoleConfig {
  brokers: string[];
  topics: TopicNames;
  /** Records the role must handle (consumers stop there; producers are checked against it). */
  requests: number;
  /** The log file (ship, bare-producer). */
  file?: string;
  /** Consumer group (detect, bare-consumer). */
  groupId?: string;
  /** Store URL and keys in hex (detect, stages). */
  clickhouseUrl?: string;
  /** The partner registry file (stages). */
  registryFile?: string;
  hashKeyHex?: string;
  encKeyHex?: string;
  /** stages: only the shipper's (read+parse, encode), without ClickHouse. */
  shipOnly?: boolean;
}

export interface RoleResult {
  seconds: number;
  cpuUs: number;
  /** Records produced (ship: the summary's requests) or consumed. */
  records: number;
  /** detect: batches taken and seconds spent inside store writes. */
  batches?: number;
  insertSeconds?: number;
  /** stages: CPU per request of each stage alone. */
  stages?: StageCpu;
  /** stages with shipOnly: the shipper's stages alone. */
  shipStages?: StageCpu['ship'];
  /** detect: a second pass over the same topic with warm memos. */
  again?: { seconds: number; cpuUs: number; records: number };
}

type Timed = () => Promise<Omit<RoleResult, 'seconds' | 'cpuUs'>>;

/** Runs `role` in a child process; `onReady` when it is connected and starts its timed work; resolves with what it measured. */
export async function runRole(role: RoleName, config: RoleConfig, onReady?: () => void): Promise<RoleResult> {
  const dir = process.env.LEAKSCOPE_BENCH_PROFILE;
  // A directory per run of a role: Node names each thread's profile (…pid.tid…), the judging thread's included.
  const execArgv = dir ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${dir}/${role}-${Date.now()}`] : process.execArgv;
  const child = fork(fileURLToPath(import.meta.url), ['--role', role, JSON.stringify(config)], { stdio: 'inherit', execArgv });
  let result: RoleResult | null = null;
  child.on('message', (m: { ready?: boolean; result?: RoleResult }) => {
    if (m.ready) onReady?.();
    if (m.result) result = m.result;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0 || result === null) throw new Error(`bench role ${role} exited ${code}`);
  return result;
}

/** Connects whatever `role` needs, then returns its timed part. */
async function prepare(role: RoleName, c: RoleConfig): Promise<{ timed: Timed; again?: () => Promise<RoleResult['again']>; close: () => Promise<void> }> {
  const log = silentLogger();
  const kafka = createKafkaClient({ brokers: c.brokers, clientId: `leakscope-bench-${role}`, logger: log });
  const codec = new AvroCodec();
  switch (role) {
    case 'ship': {
      // As `leakscope ship`: the reading thread starts while the producer connects.
      const readThread = ReadThread.start();
      const producer = new StreamProducer(kafka, codec);
      await producer.connect();
      const metrics = createMetrics({ processMetrics: false });
      return {
        timed: async () => ({ records: (await shipInputs([c.file!], { producer, topics: c.topics, format: 'ndjson', metrics, logger: log, readThread })).requests }),
        close: () => producer.disconnect(),
      };
    }
    case 'bare-producer': {
      // The shipper's messages, encoded before the clock starts: what is left is kafkajs.
      const encoder = new StreamProducer(kafka, codec);
      const batches: Message[][] = [];
      for await (const batch of readLogs([c.file!], { format: 'ndjson', batchLines: SHIP_BATCH_LINES })) batches.push(encoder.requestMessages(batch.requests));
      const producer = kafka.producer(kafkajsProducerConfig(true));
      await producer.connect();
      // The shipper's batching: batches of SHIP_BATCH_LINES, SHIP_MAX_IN_FLIGHT of them in
      // flight, each cut into produce calls of MAX_MESSAGES_PER_REQUEST sent one after another.
      const sendOne = async (messages: Message[]): Promise<void> => {
        for (const topicMessages of chunkTopicMessages([{ topic: c.topics.requests, messages }], MAX_MESSAGES_PER_REQUEST)) {
          await producer.sendBatch({ topicMessages, acks: ACKS_ALL, compression: CompressionTypes.GZIP });
        }
      };
      return {
        timed: async () => {
          const inFlight: Promise<void>[] = [];
          let records = 0;
          for (const messages of batches) {
            inFlight.push(sendOne(messages));
            records += messages.length;
            if (inFlight.length >= SHIP_MAX_IN_FLIGHT) await inFlight.shift();
          }
          await Promise.all(inFlight);
          return { records };
        },
        close: () => producer.disconnect(),
      };
    }
    case 'bare-consumer': {
      // The detector's fetch settings and concurrency, so only the work per batch differs.
      const d = detectorSettings();
      const consumer = kafka.consumer({
        groupId: c.groupId!, maxBytes: d.maxBytes, maxBytesPerPartition: d.maxBytesPerPartition, minBytes: d.minBytes, maxWaitTimeInMs: d.maxWaitTimeMs,
        sessionTimeout: 10_000, heartbeatInterval: 1000,
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [c.topics.requests], fromBeginning: true });
      let seen = 0;
      let joined: () => void;
      const join = new Promise<void>((resolve) => { joined = resolve; });
      consumer.on(consumer.events.GROUP_JOIN, () => joined());
      await consumer.run({
        partitionsConsumedConcurrently: d.partitionsConsumedConcurrently,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            if (m.value) fromAvroGatewayRequest(codec.decodeAs('GatewayRequest', m.value));
          }
          seen += batch.messages.length;
        },
      });
      // Timed from the group join (partitions assigned), as the detector: the first fetch counts.
      await join;
      return {
        timed: async () => {
          while (seen < c.requests) await sleep(5);
          return { records: seen };
        },
        close: () => consumer.disconnect(),
      };
    }
    case 'stages': {
      // In a process of its own: number parsing and protection start with empty memos, as in the detector's.
      if (c.shipOnly) return { timed: async () => ({ records: c.requests, shipStages: await measureShipStages(c.file!) }), close: async () => undefined };
      const keys = { hashKey: Buffer.from(c.hashKeyHex!, 'hex'), encKey: Buffer.from(c.encKeyHex!, 'hex') };
      return {
        timed: async () => ({ records: c.requests, stages: await measureStages({ file: c.file!, registryFile: c.registryFile!, clickhouseUrl: c.clickhouseUrl!, keys }) }),
        close: async () => undefined,
      };
    }
    case 'detect': {
      const store = await openClickHouseStore(c.clickhouseUrl!);
      const metrics = createMetrics({ processMetrics: false });
      const keys = { hashKey: Buffer.from(c.hashKeyHex!, 'hex'), encKey: Buffer.from(c.encKeyHex!, 'hex') };
      const started = async (groupId: string): Promise<Detector> => {
        const detector = new Detector({ brokers: c.brokers, topics: c.topics, store, keys, logger: log, metrics, settings: { groupId } });
        await detector.start();
        const deadline = Date.now() + 30_000;
        while ((detector.health().details.partitions as number[]).length === 0) {
          if (Date.now() > deadline) throw new Error('the detector got no partitions in 30 s');
          await sleep(5);
        }
        return detector;
      };
      const first = await started(c.groupId!);
      return {
        timed: async () => {
          while (first.totals.records < c.requests) await sleep(5);
          const insertSeconds = (await metrics.insertSeconds.get()).values
            .filter((v) => v.metricName === 'leakscope_insert_seconds_sum').reduce((a, v) => a + v.value, 0);
          return { records: first.totals.records, batches: first.totals.batches, insertSeconds };
        },
        // The same topic again in the same process, by another group: every session number was
        // parsed and every subscriber protected before (memoised), so this is the loop's own cost.
        again: async () => {
          await first.stop();
          const second = await started(`${c.groupId!}-again`);
          const cpu0 = process.cpuUsage();
          const t0 = process.hrtime.bigint();
          while (second.totals.records < c.requests) await sleep(5);
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          const cpu = process.cpuUsage(cpu0);
          const records = second.totals.records;
          await second.stop();
          return { seconds, cpuUs: cpu.user + cpu.system, records };
        },
        close: () => store.close(),
      };
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function child(role: RoleName, config: RoleConfig): Promise<void> {
  const { timed, again, close } = await prepare(role, config);
  await new Promise<void>((resolve) => process.send!({ ready: true }, () => resolve()));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const outcome = await timed();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const result: RoleResult = { ...outcome, seconds, cpuUs: cpu.user + cpu.system };
  if (again) result.again = await again();
  await new Promise<void>((resolve) => process.send!({ result }, () => resolve()));
  await close();
}

if (process.argv[2] === '--role') {
  child(process.argv[3] as RoleName, JSON.parse(process.argv[4]!) as RoleConfig).then(
    () => process.exit(0),
    (err) => { process.stderr.write(`${(err as Error).stack ?? err}\n`); process.exit(1); },
  );
}
