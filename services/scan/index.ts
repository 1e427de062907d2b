// The scan pipeline: log files → parse → detect → protect → store, in-thread or with workers.
export { checkAndRecordMeta, checkInputList, checkRegistryVersion, scanFiles, ScanInterrupted } from './scan.js';
export { processBatch } from './process-batch.js';
export { RejectsFile } from './rejects-file.js';
export type { ScanOptions, ScanProgress, ScanSummary } from './scan.js';
export { inspectInputs } from './tasks.js';
