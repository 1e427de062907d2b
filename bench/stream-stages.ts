// CPU per request of each stage of the shipper and the detector, measured here by running each
// stage alone, in one thread, over the bench's own records: read and parse, Avro encode (the
// shipper); Avro decode, detect, protect, encode the store's rows, write them (the detector).
// A stage's CPU is process.cpuUsage() around a loop that does only that stage, so the figures
// add up to what one thread would spend; Kafka's share (kafkajs producing, fetching) is what
// the bare producer and consumer spend, measured in their own processes (stream-roles.ts).
import type { Message } from 'kafkajs';
import { AvroCodec, GatewayRequestReader, fromAvroGatewayRequest } from '../services/avro/index.js';
import { detect } from '../services/core/detect/index.js';
import { buildSnapshot } from '../services/core/registry/index.js';
import type { Disclosure, GatewayRequest } from '../services/core/types.js';
import { readLogs, readRegistryFile } from '../services/files/index.js';
import { StreamProducer, createKafkaClient } from '../services/kafka/index.js';
import { silentLogger } from '../services/observability/index.js';
import { SHIP_BATCH_LINES } from '../services/shipper/index.js';
import { encodedShipBatches } from '../services/shipper/read-thread.js';
import { cpuMicros } from './cpu.js';
import { openClickHouseStore } from '../services/store/clickhouse/index.js';
import { disclosureRow } from '../services/store/clickhouse/rows.js';
import { Protector, type StoredDisclosure } from '../services/store/index.js';

/** Microseconds of CPU per request (of all requests, disclosing or not), by stage. */
export interface StageCpu {
  /** readEncode: the reading thread's whole path (encodedShipBatches: read, parse, encode) run in this thread. */
  ship: { readParse: number; encode: number; readEncode: number };
  /** decode: the detector's reader (gateway-request-reader.ts); decodeAvsc: the codec (avsc), as the bare consumer decodes. */
  detect: { decode: number; decodeAvsc: number; detect: number; protect: number; encodeRows: number; write: number };
}

async function cpuOf(fn: () => unknown): Promise<number> {
  const t = cpuMicros();
  await fn();
  return cpuMicros() - t;
}

/** A full collection when the process runs with --expose-gc (npm run bench does), else nothing. */
function fullGc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Store write batches the size the detector's fetches give (one batch per partition fetch). */
const WRITE_BATCH = 10_000;

/** The shipper's stages over `file`: read and parse, then Avro-encode the same batches; and the messages encoded. */
async function shipStages(file: string, codec: AvroCodec): Promise<{ cpu: StageCpu['ship']; messages: Message[] }> {
  const encoder = new StreamProducer(createKafkaClient({ brokers: ['127.0.0.1:9'], clientId: 'bench-stages', logger: silentLogger() }), codec);
  const batches: GatewayRequest[][] = [];
  const readParse = await cpuOf(async () => {
    for await (const b of readLogs([file], { format: 'ndjson', batchLines: SHIP_BATCH_LINES })) batches.push(b.requests);
  });
  let messages: Message[] = [];
  const encode = await cpuOf(() => { for (const b of batches) messages = messages.concat(encoder.requestMessages(b)); });
  batches.length = 0;
  let encoded = 0;
  const readEncode = await cpuOf(async () => {
    const options = { format: 'ndjson' as const, profile: null, batchLines: SHIP_BATCH_LINES };
    for await (const b of encodedShipBatches([file], options, codec)) encoded += b.encoded.ends.length;
  });
  if (encoded !== messages.length) throw new Error(`the reading thread's path encoded ${encoded} requests, readLogs gave ${messages.length}`);
  return { cpu: { readParse, encode, readEncode }, messages };
}

/** CPU per request of the shipper's stages alone (BENCH_STREAM_SIDE=ship). */
export async function measureShipStages(file: string): Promise<StageCpu['ship']> {
  const { cpu, messages } = await shipStages(file, new AvroCodec());
  const per = (us: number) => Number((us / messages.length).toFixed(2));
  return { readParse: per(cpu.readParse), encode: per(cpu.encode), readEncode: per(cpu.readEncode) };
}

export async function measureStages(options: { file: string; registryFile: string; clickhouseUrl: string; keys: { hashKey: Buffer; encKey: Buffer } }): Promise<StageCpu> {
  const codec = new AvroCodec();
  // Shipper: read and parse, then encode the same batches.
  const shipped = await shipStages(options.file, codec);
  const { readParse, encode, readEncode } = shipped.cpu;
  let messages = shipped.messages;
  const n = messages.length;

  // Detector: decode what the shipper encoded, detect, protect, encode rows, write.
  // Each decoder keeps what it decoded, as the stages after it need; a full GC between them, so
  // that neither pays for collecting the other's requests.
  const requests: GatewayRequest[] = new Array(messages.length);
  const reader = new GatewayRequestReader(codec);
  const decode = await cpuOf(() => {
    for (let i = 0; i < messages.length; i++) requests[i] = reader.read(messages[i]!.value as Buffer);
  });
  let viaAvsc: GatewayRequest[] = new Array(messages.length);
  fullGc();
  const decodeAvsc = await cpuOf(() => {
    for (let i = 0; i < messages.length; i++) viaAvsc[i] = fromAvroGatewayRequest(codec.decodeAs('GatewayRequest', messages[i]!.value as Buffer));
  });
  viaAvsc = [];
  fullGc();
  messages = [];
  const snapshot = buildSnapshot(await readRegistryFile(options.registryFile));
  const disclosures: Disclosure[] = [];
  const detectUs = await cpuOf(() => {
    for (const r of requests) {
      const d = detect(r, snapshot);
      if (d !== null) disclosures.push(d);
    }
  });
  const protector = new Protector(options.keys);
  const stored: StoredDisclosure[] = [];
  const protect = await cpuOf(() => { for (const d of disclosures) stored.push(protector.toStored(d)); });
  const encodeRows = await cpuOf(() => { for (const s of stored) JSON.stringify(disclosureRow(s)); });
  const store = await openClickHouseStore(options.clickhouseUrl);
  let write: number;
  try {
    // store.write encodes the rows itself: its CPU less encodeRows is the client's sending.
    const all = await cpuOf(async () => { for (let i = 0; i < stored.length; i += WRITE_BATCH) await store.write(stored.slice(i, i + WRITE_BATCH)); });
    write = Math.max(0, all - encodeRows);
  } finally {
    await store.close();
  }
  const per = (us: number) => Number((us / n).toFixed(2));
  return {
    ship: { readParse: per(readParse), encode: per(encode), readEncode: per(readEncode) },
    detect: { decode: per(decode), decodeAvsc: per(decodeAvsc), detect: per(detectUs), protect: per(protect), encodeRows: per(encodeRows), write: per(write) },
  };
}
