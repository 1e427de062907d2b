// The store boundary: what a disclosure store is, how disclosures are protected before
// they reach one, and how its aggregates become the contract JSON.
export { buildReport, buildWhoSaw, byteCompare, iso } from './answers.js';
export type { ReportJson, WhoSawJson } from './answers.js';
export { Protector } from './protect.js';
export { createBatchEncoder } from './encoders.js';
export type {
  AffectedSubscriber, AuditTrail, BatchEncoder, BatchEncoding, DisclosureStore, EncodedBatch, RecipientAggregate, RegistryLedger, ReportAggregates,
  ScanLog, ScanOutcome, ScanRunCounts, ScanWriter, SiteAggregate, StoreMeta, StoredDisclosure, Window,
} from './types.js';
