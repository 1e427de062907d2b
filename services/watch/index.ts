// `leakscope watch`: tail log directories, judge, store, alert — one machine, no servers.
export { runWatch, watchCheckpointPath, watchDeadLetterPath } from './watch.js';
export type { WatchOptions, WatchTotals } from './watch.js';
export { createWatchTelemetry } from './telemetry.js';
export type { WatchTelemetry } from './telemetry.js';
