// The store boundary: what a disclosure store is, how disclosures are protected before
// they reach one, and how its aggregates become the contract JSON.
export { buildReport, buildWhoSaw, byteCompare, iso } from './answers.js';
export type { ReportJson, WhoSawJson } from './answers.js';
export { Protector } from './protect.js';
export type {
  AffectedSubscriber, AuditTrail, DisclosureStore, RecipientAggregate, ReportAggregates, SiteAggregate, StoreMeta, StoredDisclosure, Window,
} from './types.js';
