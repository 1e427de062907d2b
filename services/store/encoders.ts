// The batch encoders of the stores that take pre-encoded bulk writes (ScanWriter), by the
// encoding a store names. Pure: scan workers load this without any store's native module.
import { StagingEncoder } from './duckdb/staging-format.js';
import type { Protector } from './protect.js';
import type { BatchEncoder, BatchEncoding } from './types.js';

export function createBatchEncoder(encoding: BatchEncoding, protector: Protector): BatchEncoder {
  switch (encoding) {
    case 'duckdb-staging-ndjson':
      return new StagingEncoder(protector);
  }
}
