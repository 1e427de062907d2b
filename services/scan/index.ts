// The scan pipeline: log files → parse → detect → protect → store, in-thread or with workers.
export { checkInputList, scanFiles, ScanInterrupted } from './scan.js';
export type { ScanLog, ScanOptions, ScanProgress, ScanSummary } from './scan.js';
export { inspectInputs } from './tasks.js';
