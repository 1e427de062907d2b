// DuckDB as a sink: the embedded disclosure store of `leakscope scan`, `report` and `who-saw`.
export { openDuckDbStore, DuckDbStore, WHO_SAW_ROWS_GROUPED_HERE, readersWaitingFile, signalReaderWaiting, writerWaitingFile } from './store.js';
export type { DuckDbStoreOptions, ScanRecord } from './store.js';
export { encodeStaging } from './staging-format.js';
