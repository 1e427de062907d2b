// What every disclosure store (DuckDB embedded, ClickHouse) offers. Stores hold
// disclosures with privacy applied (StoredDisclosure) and answer the three questions of
// the README's command reference with aggregates; services/store/answers.ts turns those into the contract JSON,
// so both stores give byte-identical answers.
import type { Channel, Disclosure, Registry, Verdict } from '../core/types.js';
import type { AvroLeakAlert } from '../avro/records.js';

/** A disclosure as stored: the number only as keyed hash, masked form and ciphertext. */
export type StoredDisclosure = Omit<Disclosure, 'subscriber'> & {
  /** HMAC-SHA-256 hex of the E.164 number; null when only a token was disclosed. */
  subscriberHash: string | null;
  subscriberMasked: string | null;
  /** AES-256-GCM ciphertext of the E.164 number (versioned string). */
  subscriberEnc: string | null;
};

/** A window [from, to) in epoch ms; null = unbounded on that side. */
export interface Window {
  from: number | null;
  to: number | null;
}

/** Aggregates of the violations of one site in a window, as a store computes them. */
export interface SiteAggregate {
  site: string;
  hosts: readonly string[];
  violations: number;
  subscribers: number;
  firstSeen: number;
  lastSeen: number;
  identifiers: readonly Channel[];
  verdicts: Readonly<Partial<Record<Verdict, number>>>;
}

export interface ReportAggregates {
  totals: { violations: number; subscribers: number; sites: number };
  sites: readonly SiteAggregate[];
  /** Hour bucket start (epoch ms) → violations; only hours with violations. */
  timeline: ReadonlyArray<{ bucket: number; violations: number }>;
}

export interface RecipientAggregate {
  site: string;
  host: string;
  verdict: Verdict;
  partnerId: string | null;
  requests: number;
  identifiers: readonly Channel[];
  firstSeen: number;
  lastSeen: number;
}

export interface AffectedSubscriber {
  subscriberEnc: string;
  subscriberHash: string;
  sites: readonly string[];
  firstSeen: number;
  lastSeen: number;
  violations: number;
}

/** Facts about the data set, kept in the store: the region numbers were normalised with, the key in use. */
export interface StoreMeta {
  region: string | null;
  /** HMAC of a fixed label with the hash key: tells whether a lookup key is the one the data was stored with. */
  keyCheck: string | null;
  /**
   * HMAC of a fixed label with the encryption key: tells whether an export's key is the one
   * the numbers were encrypted with. Absent when no writer had an encryption key (or the store
   * predates it); writeMeta leaves it untouched when not given.
   */
  encKeyCheck?: string | null;
}

/** An alert as raised (the LeakAlert record); stored so the API and `watch` can show recent alerts. */
export type StoredAlert = AvroLeakAlert;

export interface DisclosureStore {
  /** Idempotent by `id`: writing a disclosure twice stores it once. Durable when the promise resolves. */
  write(batch: readonly StoredDisclosure[]): Promise<void>;
  report(window: Window & { from: number; to: number }, site?: string): Promise<ReportAggregates>;
  whoSaw(subscriberHash: string, window: Window): Promise<RecipientAggregate[]>;
  affected(window: Window & { from: number; to: number }): Promise<AffectedSubscriber[]>;
  readMeta(): Promise<StoreMeta>;
  writeMeta(meta: StoreMeta): Promise<void>;
  /**
   * The masked number of each subscriber hash given (those the store knows): how an export
   * names a subscriber it cannot decrypt. Meant for a few hashes, not for bulk.
   */
  maskedSubscribers?(subscriberHashes: readonly string[]): Promise<Map<string, string>>;
  /** The audit of lookups made on this store. */
  auditTrail(): AuditTrail;
  /** Idempotent by alert id (the first write of an id is kept). Durable when the promise resolves. */
  writeAlerts(alerts: readonly StoredAlert[]): Promise<void>;
  /** Alerts newest first (by detected_at, then id), detected at or after `since` (epoch ms), at most `limit` (default 100). */
  recentAlerts(options?: { since?: number; limit?: number }): Promise<StoredAlert[]>;
  /**
   * Every site with at least one violation stored, in byte order: the sites whose
   * first_disclosure alert was raised already (a detector or watch sends it before the write)
   * or that a scan found. What a detector or watch seeds its "already alerted" state with at
   * start; cheap (the ClickHouse store reads its daily site rollup, never the raw rows).
   */
  alertedSites(): Promise<string[]>;
  close(): Promise<void>;
}

// ---- What a scan needs of its store (services/scan): README "The scan's store boundary" ----

/** Which registry content each version label stood for: how a rescan under a changed registry is caught. */
export interface RegistryLedger {
  /** The digest first recorded for `version` (a label, or an internal key such as the identity-header list), or null. */
  registryDigest(version: string): Promise<string | null>;
  recordRegistryDigest(version: string, digest: string): Promise<void>;
  /** Keeps the registry last scanned with (what `serve` shows as the registry the data was judged with). */
  recordRegistry(registry: Registry): Promise<void>;
}

/** The counts a finished scan run is recorded with; counts are of that run's inputs. */
export interface ScanRunCounts {
  /** Lines read, of every kind (requests, rejects, directives, blank lines). */
  lines: number;
  /** Lines read as requests. */
  requests: number;
  /** Requests that disclosed a subscriber identifier (all stored). */
  disclosures: number;
  /** Disclosures whose verdict is not `authorized`. */
  violations: number;
  /** Lines that could not be read, written to the rejects file. */
  rejected: number;
}

export type ScanOutcome = 'done' | 'interrupted' | 'failed';

/** A log of scan runs, kept in the store. */
export interface ScanLog {
  /** Records the start of a run; returns its id for finishScan. */
  beginScan(inputs: readonly string[], startedMs: number): Promise<number>;
  finishScan(id: number, finishedMs: number, outcome: ScanOutcome, counts: ScanRunCounts): Promise<void>;
}

/** How a store wants bulk batches encoded; the encoders are in services/store/encoders.ts. */
export type BatchEncoding = 'duckdb-staging-ndjson';

/** A batch of disclosures encoded for one store's bulk write, made off the writer's thread. Opaque outside the store. */
export interface EncodedBatch {
  readonly encoding: BatchEncoding;
  readonly text: string;
  readonly rows: number;
}

/**
 * Turns disclosures into an EncodedBatch. Pure (no I/O, no native module), so scan workers
 * run it: the writer's thread then only hands the text over. It protects the subscriber
 * itself, once per distinct number, and keeps the encoded protected forms for the next row.
 */
export interface BatchEncoder {
  add(disclosure: Disclosure): void;
  /** Rows added since the last take. */
  readonly rows: number;
  /** The rows added since the last take, as one batch; the encoder starts empty again. */
  take(): EncodedBatch;
}

/** The store of a scan: disclosures, written in bulk as pre-encoded batches, with the registry ledger and the scan log. */
export interface ScanWriter extends DisclosureStore, RegistryLedger, ScanLog {
  /** The encoding writeEncoded takes. */
  readonly batchEncoding: BatchEncoding;
  /** Like write (one transaction, idempotent by id), for a batch made by an encoder of batchEncoding. */
  writeEncoded(batch: EncodedBatch): Promise<void>;
}

/**
 * The audit of lookups (services/audit): entries are only ever appended, each chained to the
 * one before. Every store offers one: DuckDB a file next to it, ClickHouse a table.
 */
export interface AuditTrail {
  /** Appends the entry after the current last one; durable when the promise resolves. */
  append(draft: import('../audit/entry.js').AuditDraft): Promise<import('../audit/entry.js').AuditEntry>;
  /** Every stored line, in stored order, as written (for `audit verify`). */
  lines(): Promise<string[]>;
  /** Where the trail is, for messages. */
  readonly location: string;
}
