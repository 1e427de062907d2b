// The log shipper (`leakscope ship`): log files to gateway-requests, and its directory
// follower with checkpoints saved only after Kafka acknowledged.
export { SHIP_BATCH_LINES, SHIP_MAX_IN_FLIGHT, expandInputs, produceBatch, shipInputs } from './ship.js';
export type { ShipOptions, ShipSummary } from './ship.js';
export { followDirectory, tailDirectory } from './follow.js';
export type { FollowOptions, FollowTotals, TailOptions } from './follow.js';
export { Checkpoint } from './checkpoint.js';
export { ReadThread } from './read-thread.js';
export type { CheckpointContent, FilePosition } from './checkpoint.js';
