// The shipper's batches, ready to produce: read, parsed and Avro-encoded either in this thread
// or, for files, in a reading thread (read-worker.ts) while this one produces. Both give the
// same batches with the same bytes, in the same order (a test compares them).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Message } from 'kafkajs';
import { AvroCodec } from '../avro/index.js';
import { LeakscopeError, type ErrorCode } from '../core/errors.js';
import type { LogProfile } from '../core/parse/index.js';
import type { LogFormat, RejectRecord } from '../core/types.js';
// Modules of their own, not the folders' index files: the reading thread loads only what it runs (not kafkajs, YAML or the registry).
import { readLogs } from '../files/logs.js';
import { EncodedRequestsBuilder, encodedMessages, type EncodedRequests } from '../kafka/encoded.js';
import { NdjsonAvroWriter } from './ndjson-avro.js';

/** One batch of the logs as the shipper sends it. */
export interface ShipBatch {
  lines: number;
  notForwarded: number;
  bytes: number;
  /** Avro GatewayRequest messages, keyed as StreamProducer.requestMessages keys them. */
  messages: Message[];
  rejects: RejectRecord[];
}

export interface ReadWorkerInit {
  files: string[];
  format: LogFormat | 'auto';
  profile: LogProfile | null;
  batchLines: number;
  /** Batches the thread may have waiting unread by the main thread. */
  maxAhead: number;
}

/** Main thread → reading thread: the work (once), then an ack per batch taken. */
export type ToReadWorker = { type: 'init'; init: ReadWorkerInit } | { type: 'ack' };

export type FromReadWorker =
  | {
    type: 'batch';
    batch: Omit<ShipBatch, 'messages'> & { keys: Array<string | null>; values: ArrayBuffer; valuesLength: number; ends: Uint32Array };
  }
  | { type: 'done' }
  | { type: 'error'; error: { code: ErrorCode; message: string; problems?: readonly string[]; stack?: string | undefined } };

export interface ReadBatchesOptions {
  format: LogFormat | 'auto';
  profile: LogProfile | null;
  batchLines: number;
  stdin?: NodeJS.ReadableStream;
  /** The reading thread's script; null reads in this thread. Default DEFAULT_READ_WORKER when it exists. */
  readWorker?: URL | null;
  /** Batches read ahead of the producer; default 2. */
  maxAhead?: number;
  /** A reading thread started ahead (ReadThread.start), used instead of starting one; closed when not needed. */
  thread?: ReadThread | null;
}

/**
 * A reading thread started before its work is known, so that its start-up (loading its
 * modules, a few hundred milliseconds of CPU) overlaps the producer's connecting instead of
 * delaying the first batch. Until it is given work it does not keep the process alive.
 */
export class ReadThread {
  private used = false;
  /** Why the thread ended before it was given work (a module that failed to load). */
  private ended: Error | null = null;

  private constructor(readonly worker: Worker) {
    worker.unref();
    const end = (why: Error): void => { if (!this.used) this.ended ??= why; };
    worker.on('error', end);
    worker.once('exit', (code) => end(new Error(`exited with code ${code}`)));
  }

  /** Starts one on `script` (default: the compiled reading thread); null when there is none (under vitest from sources). */
  static start(script: URL | null = defaultReadWorker()): ReadThread | null {
    return script === null ? null : new ReadThread(new Worker(script));
  }

  /** The worker, for one run; a second take is a programming error. */
  take(): Worker {
    if (this.used) throw new LeakscopeError('INTERNAL', 'the shipper\'s reading thread was given work twice');
    if (this.ended !== null) throw new LeakscopeError('INTERNAL', `the shipper's reading thread failed before it was given work: ${this.ended.message}`, { cause: this.ended });
    this.used = true;
    this.worker.ref();
    return this.worker;
  }

  /** Ends the thread if it was never given work. */
  async close(): Promise<void> {
    if (!this.used) {
      this.used = true;
      await this.worker.terminate();
    }
  }
}

/** dist/shipper/read-worker.js next to this module; null under vitest from sources (no compiled worker there). */
export function defaultReadWorker(): URL | null {
  const url = new URL('./read-worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

/** The batches of `files` (`-` is stdin, always read in this thread). */
export function readShipBatches(files: readonly string[], options: ReadBatchesOptions): AsyncIterable<ShipBatch> {
  const script = options.readWorker === undefined ? defaultReadWorker() : options.readWorker;
  const thread = options.thread ?? null;
  if ((script === null && thread === null) || files.includes('-') || files.length === 0) {
    void thread?.close();
    return readHere(files, options);
  }
  return readInWorker(thread !== null ? thread.take() : new Worker(script!), files, options);
}

/**
 * Lines parsed at a time: a ship batch (thousands of lines) is gathered from sub-batches this
 * small, each encoded at once, so parsed requests die young (EncodedRequestsBuilder).
 */
const READ_LINES = 512;

/** One ship batch, encoded: what both ways of reading produce, before messages are made of it. */
export type EncodedShipBatch = Omit<ShipBatch, 'messages'> & { encoded: EncodedRequests };

/**
 * The logs read in sub-batches of at most READ_LINES lines and gathered into ship batches of
 * `batchLines` lines or more (fewer at the end of a source: a batch never mixes sources).
 */
export async function* encodedShipBatches(files: readonly string[], options: ReadBatchesOptions, codec: AvroCodec): AsyncIterable<EncodedShipBatch> {
  const subLines = Math.ceil(options.batchLines / Math.ceil(options.batchLines / READ_LINES));
  // NDJSON lines go straight to Avro (ndjson-avro.ts); other formats are parsed, then encoded.
  const transcoder = new NdjsonAvroWriter(codec);
  const read = { format: options.format, profile: options.profile, batchLines: subLines, ndjsonSink: transcoder, ...(options.stdin ? { stdin: options.stdin } : {}) };
  const encoder = new EncodedRequestsBuilder(codec);
  let source: string | null = null;
  let gathered = { lines: 0, notForwarded: 0, bytes: 0, rejects: [] as RejectRecord[] };
  const take = (): EncodedShipBatch => {
    const batch = { ...gathered, encoded: encoder.take() };
    gathered = { lines: 0, notForwarded: 0, bytes: 0, rejects: [] };
    return batch;
  };
  for await (const batch of readLogs(files, read)) {
    if (source !== null && batch.source !== source && gathered.lines > 0) yield take();
    source = batch.source;
    // A source is read by one parser: its requests are all taken by the transcoder, or none.
    if (transcoder.size > 0) encoder.addEncoded(transcoder.takeEncoded());
    encoder.add(batch.requests);
    gathered.lines += batch.lines;
    gathered.notForwarded += batch.notForwarded;
    gathered.bytes += batch.bytes;
    for (const r of batch.rejects) gathered.rejects.push(r);
    if (gathered.lines >= options.batchLines) yield take();
  }
  if (gathered.lines > 0 || gathered.bytes > 0) yield take();
}

async function* readHere(files: readonly string[], options: ReadBatchesOptions): AsyncIterable<ShipBatch> {
  for await (const { encoded, ...rest } of encodedShipBatches(files, options, new AvroCodec())) {
    yield { ...rest, messages: encodedMessages(encoded.keys, encoded.bytes, encoded.ends) };
  }
}

async function* readInWorker(worker: Worker, files: readonly string[], options: ReadBatchesOptions): AsyncIterable<ShipBatch> {
  const init: ReadWorkerInit = { files: [...files], format: options.format, profile: options.profile, batchLines: options.batchLines, maxAhead: options.maxAhead ?? 2 };
  const post = (m: ToReadWorker): void => worker.postMessage(m);
  post({ type: 'init', init });
  const queue: FromReadWorker[] = [];
  let wake: (() => void) | null = null;
  let exited: Error | null = null;
  const push = (m: FromReadWorker): void => {
    queue.push(m);
    wake?.();
    wake = null;
  };
  worker.on('message', push);
  worker.on('error', (err) => push({ type: 'error', error: { code: 'INTERNAL', message: `the shipper's reading thread failed: ${err.message}`, stack: err.stack } }));
  const onExit = (code: number): void => {
    exited = new LeakscopeError('INTERNAL', `the shipper's reading thread exited (code ${code}) before it finished`);
    wake?.();
    wake = null;
  };
  worker.on('exit', onExit);
  try {
    for (;;) {
      const m = queue.shift();
      if (m === undefined) {
        if (exited !== null) throw exited;
        await new Promise<void>((resolve) => { wake = resolve; });
        continue;
      }
      if (m.type === 'done') return;
      if (m.type === 'error') {
        const error = new LeakscopeError(m.error.code, m.error.message, { problems: m.error.problems ?? [] });
        if (m.error.stack) error.stack = m.error.stack;
        throw error;
      }
      post({ type: 'ack' });
      const { keys, values, valuesLength, ends, ...rest } = m.batch;
      yield { ...rest, messages: encodedMessages(keys, Buffer.from(values, 0, valuesLength), ends) };
    }
  } finally {
    worker.off('exit', onExit);
    await worker.terminate();
  }
}
