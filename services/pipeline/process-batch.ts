// The transform step of a scan, shared by the main thread and the workers: a batch of parsed
// requests in, the disclosures with privacy applied out. No I/O.
import { detect } from '../core/detect/index.js';
import type { RegistrySnapshot, RejectRecord } from '../core/types.js';
// Directly, not through the duckdb index: workers must not load the native DuckDB module.
import { encodeStaging, type EncodedBatch } from '../sinks/duckdb/staging-format.js';
import type { LogBatch } from '../sources/files/index.js';
import type { Protector } from '../store/index.js';
import type { StoredDisclosure } from '../store/types.js';

/** What one log batch became: what the main thread writes and counts. */
export interface ProcessedBatch {
  source: string;
  lines: number;
  bytes: number;
  requests: number;
  violations: number;
  disclosures: number;
  /** The disclosures as records, or null when they were encoded for the DuckDB store instead. */
  stored: StoredDisclosure[] | null;
  /** The disclosures encoded for DuckDBStore.writeEncoded (done in workers, off the writer's thread). */
  encoded: EncodedBatch | null;
  rejects: RejectRecord[];
}

export function processBatch(batch: LogBatch, snapshot: RegistrySnapshot, protector: Protector, encode: boolean): ProcessedBatch {
  const disclosures: StoredDisclosure[] = [];
  let violations = 0;
  for (const request of batch.requests) {
    const disclosure = detect(request, snapshot);
    if (disclosure === null) continue;
    if (disclosure.verdict !== 'authorized') violations++;
    disclosures.push(protector.toStored(disclosure));
  }
  return {
    source: batch.source,
    lines: batch.lines,
    bytes: batch.bytes,
    requests: batch.requests.length,
    violations,
    disclosures: disclosures.length,
    stored: encode ? null : disclosures,
    encoded: encode ? encodeStaging(disclosures) : null,
    rejects: batch.rejects,
  };
}
