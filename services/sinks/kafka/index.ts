// Kafka as a sink: producing gateway requests, dead-letter records, partner records and
// alerts; the log shipper (`leakscope ship`) and its directory follower with checkpoints.
export { DLQ_HEADERS, StreamProducer, poisonMessage, rejectMessage } from './producer.js';
export type { ProducerOptions } from './producer.js';
export { expandInputs, produceBatch, shipInputs } from './ship.js';
export type { ShipOptions, ShipSummary } from './ship.js';
export { followDirectory } from './follow.js';
export type { FollowOptions, FollowTotals } from './follow.js';
export { Checkpoint } from './checkpoint.js';
export type { CheckpointContent, FilePosition } from './checkpoint.js';
