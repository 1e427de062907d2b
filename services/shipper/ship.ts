// The log shipper: gateway log files (or stdin) → readLogs → Avro GatewayRequest messages on
// gateway-requests, rejects to the dead-letter topic with their reason. Files are read, parsed
// and encoded in a thread of their own while this one produces (read-thread.ts). A batch's
// records and rejects go in one acknowledged send; a few sends are kept in flight for
// throughput, and the shipper finishes only when every one of them is acknowledged.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LeakscopeError } from '../core/errors.js';
import type { LogProfile } from '../core/parse/index.js';
import type { LogFormat } from '../core/types.js';
import type { LogBatch } from '../files/index.js';
import type { Message } from 'kafkajs';
import type { RejectRecord } from '../core/types.js';
import { readShipBatches, type ReadThread } from './read-thread.js';
import type { TopicNames } from '../kafka/index.js';
import { redactNumbers, type Logger, type StreamMetrics } from '../observability/index.js';
import { rejectMessage, type StreamProducer } from '../kafka/producer.js';

export interface ShipSummary {
  inputs: number;
  lines: number;
  requests: number;
  rejects: number;
  /** Requests the gateway did not forward: counted, not shipped. */
  notForwarded: number;
  bytes: number;
  seconds: number;
}

export interface ShipOptions {
  producer: StreamProducer;
  topics: TopicNames;
  format: LogFormat | 'auto';
  /** How the writer's fields map onto leakscope's (README "Log formats"). */
  profile?: LogProfile | null;
  metrics: StreamMetrics;
  logger: Logger;
  stdin?: NodeJS.ReadableStream;
  /** Lines per produced batch; default SHIP_BATCH_LINES. */
  batchLines?: number;
  /** Sends awaiting acknowledgement at once; default SHIP_MAX_IN_FLIGHT. */
  maxInFlight?: number;
  /** Script of the thread that reads, parses and encodes files while this one produces; null: all in this thread. Default: the compiled one, when it exists (read-thread.ts). */
  readWorker?: URL | null;
  /** A reading thread started ahead (ReadThread.start: its start-up overlaps the producer's connecting); used, or closed. */
  readThread?: ReadThread | null;
}

/** Lines per produced batch. */
export const SHIP_BATCH_LINES = 8192;
/** Sends awaiting acknowledgement at once. */
export const SHIP_MAX_IN_FLIGHT = 4;

/** FILE…, a DIR (its regular files, by name; dot files skipped) or `-`. */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      out.push(input);
      continue;
    }
    let info;
    try {
      info = await stat(input);
    } catch (err) {
      throw new LeakscopeError('INPUT_UNREADABLE', `${input}: cannot read: ${(err as Error).message}`, { cause: err });
    }
    if (!info.isDirectory()) {
      out.push(input);
      continue;
    }
    const names = (await readdir(input)).filter((n) => !n.startsWith('.')).sort();
    for (const name of names) {
      const path = join(input, name);
      if ((await stat(path)).isFile()) out.push(path);
    }
  }
  return out;
}

/** Produces one log batch (requests and rejects) and resolves when Kafka acknowledged all of it. */
export async function produceBatch(batch: LogBatch, options: Pick<ShipOptions, 'producer' | 'topics' | 'metrics' | 'logger'>): Promise<void> {
  await produceMessages(options.producer.requestMessages(batch.requests), batch.rejects, options);
}

/** Produces a batch's request messages and its rejects in one acknowledged send. */
async function produceMessages(messages: Message[], rejects: readonly RejectRecord[], options: Pick<ShipOptions, 'producer' | 'topics' | 'metrics' | 'logger'>): Promise<void> {
  const { producer, topics, metrics, logger } = options;
  await producer.send([
    { topic: topics.requests, messages },
    { topic: topics.dlq, messages: rejects.map(rejectMessage) },
  ]);
  metrics.recordsIn.inc({ source: 'file' }, messages.length);
  metrics.recordsProduced.inc({ topic: topics.requests }, messages.length);
  metrics.batchSize.observe({ source: 'file' }, messages.length);
  if (rejects.length > 0) {
    metrics.rejects.inc({ source: 'file' }, rejects.length);
    for (const r of rejects) logger.warn({ source: r.source, line: r.line, reason: redactNumbers(r.reason), topic: topics.dlq }, 'record rejected');
  }
}

export async function shipInputs(inputs: readonly string[], options: ShipOptions): Promise<ShipSummary> {
  const started = process.hrtime.bigint();
  const files = await expandInputs(inputs);
  const summary: ShipSummary = { inputs: files.length, lines: 0, requests: 0, rejects: 0, notForwarded: 0, bytes: 0, seconds: 0 };
  const maxInFlight = options.maxInFlight ?? SHIP_MAX_IN_FLIGHT;
  const inFlight: Promise<void>[] = [];
  const readOptions = {
    format: options.format, profile: options.profile ?? null, batchLines: options.batchLines ?? SHIP_BATCH_LINES,
    ...(options.stdin ? { stdin: options.stdin } : {}), ...(options.readWorker !== undefined ? { readWorker: options.readWorker } : {}),
    thread: options.readThread ?? null,
  };
  try {
    for await (const batch of readShipBatches(files, readOptions)) {
      summary.lines += batch.lines;
      summary.requests += batch.messages.length;
      summary.rejects += batch.rejects.length;
      summary.notForwarded += batch.notForwarded;
      summary.bytes += batch.bytes;
      const sent = produceMessages(batch.messages, batch.rejects, options);
      sent.catch(() => undefined); // awaited below, in order
      inFlight.push(sent);
      if (inFlight.length >= maxInFlight) await inFlight.shift();
    }
  } finally {
    // Every send is awaited, even after a failure, so none is left unobserved.
    const results = await Promise.allSettled(inFlight);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  options.logger.info({ ...summary }, 'ship finished');
  return summary;
}
