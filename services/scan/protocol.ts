// Messages between the scan's main thread and its workers. Workers parse, detect and
// protect; the main thread is the store's single writer. Everything here is structured-cloned.
import type { LogProfile } from '../core/parse/index.js';
import type { LogFormat, Registry } from '../core/types.js';
import type { BatchEncoding } from '../store/types.js';
import type { ProcessedBatch } from './process-batch.js';
import type { ScanTask } from './tasks.js';

export interface WorkerInit {
  registry: Registry;
  /** Buffers arrive as Uint8Array after cloning; the worker turns them back into Buffers. */
  hashKey: Uint8Array;
  encKey: Uint8Array | null;
  format: LogFormat | 'auto';
  /** The log profile (plain data, cloned), or null for the format's own fields. */
  profile: LogProfile | null;
  batchLines: number;
  /** The store's batch encoding (ScanWriter.batchEncoding): workers encode what the writer hands over. */
  encoding: BatchEncoding;
  /** Batches a worker may have posted and not yet had acknowledged (written) before it waits. */
  maxInFlight: number;
}

export type ToWorker =
  | { type: 'task'; task: ScanTask }
  | { type: 'ack' };

export interface ErrorShape {
  code: string;
  message: string;
  problems: string[];
  stack?: string;
}

export type FromWorker =
  | { type: 'batch'; taskId: number; batch: ProcessedBatch }
  | { type: 'done'; taskId: number }
  | { type: 'error'; taskId: number; error: ErrorShape };
