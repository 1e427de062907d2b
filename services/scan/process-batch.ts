// The transform step of a scan, shared by the main thread and the workers: batches of parsed
// requests in, the disclosures with privacy applied out, gathered into store batches. No I/O.
import { detect } from '../core/detect/index.js';
import type { RegistrySnapshot, RejectRecord } from '../core/types.js';
import type { LogBatch } from '../files/index.js';
import { createBatchEncoder, type Protector } from '../store/index.js';
import type { BatchEncoder, BatchEncoding, EncodedBatch, StoredDisclosure } from '../store/types.js';

/** What one log batch became: what the main thread writes and counts. */
export interface ProcessedBatch {
  source: string;
  lines: number;
  bytes: number;
  requests: number;
  violations: number;
  disclosures: number;
  /** Requests the gateway did not forward: counted, never judged. */
  notForwarded: number;
  /** Fields of this source that nobody reads, first met in this batch. */
  unreadFields: string[];
  /** The disclosures as records, or null when they were encoded for the store instead. */
  stored: StoredDisclosure[] | null;
  /** The disclosures encoded for the store's writeEncoded (ScanWriter; done in workers, off the writer's thread). */
  encoded: EncodedBatch | null;
  rejects: RejectRecord[];
  /** Sources whose reading stopped at a fault in this batch (see LogBatch.fault); 0 or 1. */
  faults: number;
}

/**
 * Lines per batch read from a source. Small on purpose (see DEFAULT_BATCH_LINES in
 * files/logs.ts): a batch's parsed requests then die young, in the scavenger, while
 * only the small encoded text of its disclosures lives on until the store batch is full.
 * Reading the store batch's 8192 lines at once left the requests to be promoted, and GC took
 * 17 % of a scan's main thread.
 */
const READ_BATCH_LINES = 512;

/** The read batch size for a store batch of `batchLines`: its largest divisor up to 512, so store batches keep exactly that size. */
export function readBatchLines(batchLines: number): number {
  for (let d = Math.min(READ_BATCH_LINES, batchLines); d > 1; d--) if (batchLines % d === 0) return d;
  return 1;
}

/**
 * Judges read batches as they come and gathers them into store batches of at least
 * `batchLines` lines, never mixing sources: each store batch is one transaction.
 */
export class BatchAssembler {
  private source: string | null = null;
  private lines = 0;
  private bytes = 0;
  private requests = 0;
  private violations = 0;
  private disclosures = 0;
  private notForwarded = 0;
  private unreadFields: string[] = [];
  private stored: StoredDisclosure[] = [];
  /** Null: the disclosures are kept as records (stored). */
  private readonly encoder: BatchEncoder | null;
  private rejects: RejectRecord[] = [];
  private faults = 0;

  constructor(
    private readonly snapshot: RegistrySnapshot,
    private readonly protector: Protector,
    /** The store's batch encoding (ScanWriter.batchEncoding), or false for StoredDisclosure records. */
    encoding: BatchEncoding | false,
    private readonly batchLines: number,
  ) {
    this.encoder = encoding === false ? null : createBatchEncoder(encoding, protector);
  }

  /** Adds a read batch; returns the store batches completed by it (the one before, when the source changed, and this one when full). */
  add(batch: LogBatch): ProcessedBatch[] {
    const done: ProcessedBatch[] = [];
    if (this.source !== null && this.source !== batch.source) {
      const previous = this.flush();
      if (previous !== null) done.push(previous);
    }
    this.source = batch.source;
    let disclosures = 0;
    for (const request of batch.requests) {
      const disclosure = detect(request, this.snapshot);
      if (disclosure === null) continue;
      disclosures++;
      if (disclosure.verdict !== 'authorized') this.violations++;
      // Encoded now, while the records are young: only their text outlives this call.
      if (this.encoder !== null) this.encoder.add(disclosure);
      else this.stored.push(this.protector.toStored(disclosure));
    }
    this.lines += batch.lines;
    this.bytes += batch.bytes;
    this.requests += batch.requests.length;
    this.disclosures += disclosures;
    for (const r of batch.rejects) this.rejects.push(r);
    if (batch.fault !== null) this.faults++;
    this.notForwarded += batch.notForwarded;
    for (const f of batch.unreadFields) this.unreadFields.push(f);
    if (this.lines >= this.batchLines) {
      const full = this.flush();
      if (full !== null) done.push(full);
    }
    return done;
  }

  /** The store batch gathered so far, or null when nothing was read since the last one. */
  flush(): ProcessedBatch | null {
    if (this.source === null || (this.lines === 0 && this.bytes === 0 && this.rejects.length === 0 && this.faults === 0 && this.unreadFields.length === 0)) return null;
    const batch: ProcessedBatch = {
      source: this.source,
      lines: this.lines,
      bytes: this.bytes,
      requests: this.requests,
      violations: this.violations,
      disclosures: this.disclosures,
      notForwarded: this.notForwarded,
      unreadFields: this.unreadFields,
      stored: this.encoder === null ? this.stored : null,
      encoded: this.encoder === null ? null : this.encoder.take(),
      rejects: this.rejects,
      faults: this.faults,
    };
    this.lines = this.bytes = this.requests = this.violations = this.disclosures = this.faults = this.notForwarded = 0;
    this.unreadFields = [];
    this.stored = [];
    this.rejects = [];
    return batch;
  }
}

/** One read batch judged on its own: a store batch of exactly its lines. */
export function processBatch(batch: LogBatch, snapshot: RegistrySnapshot, protector: Protector, encoding: BatchEncoding | false): ProcessedBatch {
  const assembler = new BatchAssembler(snapshot, protector, encoding, Infinity);
  assembler.add(batch);
  return assembler.flush()!;
}
