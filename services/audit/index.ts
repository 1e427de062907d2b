// The audit of lookups: hash-chained entries (pure) and the embedded store's file of them.
export { AUDIT_ACTIONS, GENESIS, entryHash, formatEntry, nextEntry, parseEntry, verifyChain } from './entry.js';
export type { AuditAction, AuditDraft, AuditEntry, VerifyResult } from './entry.js';
export { AUDIT_FILE_MODE, NdjsonAuditTrail, auditFileFor } from './ndjson-trail.js';
export { checkReason, MAX_REASON_LENGTH } from './reason.js';
export { FALLBACK_REGION, auditedAffected, auditedWhoSaw, readNumber } from './lookups.js';
export type { Actor, Unlisted, UnlistedReason } from './lookups.js';
