// Files as a source: gateway log files (plain, gzip, stdin) and the registry file; and the one
// safe way to open a file leakscope writes or trusts (safe-file.ts).
export { readRegistryFile } from './registry-file.js';
export { rangeStarts, readLogFile, readLogRange, readLogs, type LogBatch, type LogRangeOptions, type NdjsonSink, type RangeStart, type ReadLogsOptions } from './logs.js';
export {
  OWNER_ONLY_MODE, checkExistingName, openForWriting, openTrustedForReading, readTrustedFile, refuseProtectedOutput, storeFiles, writeFileAtomically,
  type ProtectedFile, type SafeOpenOptions, type WriteMode,
} from './safe-file.js';
export { readProfileFile } from './profile-file.js';
