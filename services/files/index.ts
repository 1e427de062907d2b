// Files as a source: gateway log files (plain, gzip, stdin) and the registry file.
export { readRegistryFile } from './registry-file.js';
export { readLogFile, readLogRange, readLogs, type LogBatch, type LogRangeOptions, type ReadLogsOptions } from './logs.js';
export { readProfileFile } from './profile-file.js';
